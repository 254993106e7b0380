/*!
 * event-hub.mjs: event-hub.js as an ES module. See the header of event-hub.js for the API.
 *
 *     import EventHub, {init, track, flush, createClient} from "/static/event_hub/event-hub.mjs";
 *
 * Importing it also defines the global `EventHub` (the same object a <script> tag gives).
 */
import "./event-hub.js";

const EventHub = globalThis.EventHub;

export default EventHub;
export const { init, track, flush, createClient, version } = EventHub;
