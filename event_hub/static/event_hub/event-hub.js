/*!
 * event-hub.js: the event_hub browser client. No dependencies, no build step.
 *
 * It queues events, posts them in batches to /api/tracking, flushes what is left with
 * fetch(..., {keepalive: true}) when the page is hidden or left, retries 5xx and network
 * failures with exponential backoff and jitter, and never throws into or blocks the page.
 *
 * Classic script (defines the global `EventHub`):
 *
 *     <script src="/static/event_hub/event-hub.js"></script>
 *     <script>
 *       EventHub.init({endpoint: "/api/tracking"});
 *       EventHub.track("play_video", {id: "intro", code: "html5", currentTime: 0});
 *     </script>
 *
 * ES module (event-hub.mjs re-exports the same object):
 *
 *     import {init, track, flush} from "/static/event_hub/event-hub.mjs";
 *
 * API
 *
 *   EventHub.init(options) -> client
 *       Configure the page's shared client and return it. Later calls reconfigure it; events
 *       tracked before init() wait in its queue and go to the configured endpoint.
 *   EventHub.track(type, data, {nodeId}) -> boolean
 *       Queue one event: `type` is the event name (e.g. "play_video"), `data` its payload
 *       (the `event` member, {} when omitted), `nodeId` an optional course content node
 *       (usage key). The page URL and the time are recorded now. Returns false when the event
 *       could not be queued (e.g. data that is not JSON-serialisable); never throws.
 *   EventHub.flush() -> Promise
 *       Send everything queued now, without waiting for flushInterval or a pending retry.
 *       Resolves (never rejects) once the queue is empty or parked for a retry.
 *   EventHub.createClient(options) -> client
 *       An independent client with the same methods (track, flush, configure, pending, stats,
 *       close), e.g. for a second endpoint or for tests.
 *   client.pending() -> number       events queued, not counting requests in flight
 *   client.stats                     counters: tracked, requests, accepted, rejected, dropped, retries
 *   client.close()                   flush with keepalive and stop listening to the page
 *
 * Options (defaults)
 *
 *   endpoint        "/api/tracking"   URL events are POSTed to (same origin)
 *   csrfToken       null    the CSRF token, a string or a function returning one; when null the
 *                           cookie named csrfCookieName is read before each request
 *   csrfCookieName  "csrftoken"
 *   batchSize       20      most events per request (a request also stays under 64 KiB, so it can
 *                           be a keepalive one; a single larger event goes alone)
 *   flushInterval   2000    ms an event may wait for others before its batch is sent
 *   maxQueue        1000    events kept while the server is unreachable; beyond it the oldest
 *                           are dropped (and reported through onError)
 *   maxRetries      6       retries of one batch after 5xx, 408, 429 or a network error; then the
 *                           batch is dropped. Other 4xx answers are never retried.
 *   retryDelay      1000    ms before the first retry; doubled for each further one, with jitter
 *                           (a random delay between half and all of it), capped at maxRetryDelay.
 *                           A Retry-After header on 429/503 is honoured up to maxRetryDelay.
 *   maxRetryDelay   60000
 *   pageClose       false   track "page_close" when the page is left (pagehide)
 *   onResponse      null    function({status, events, accepted, rejected, body}) after each answer
 *   onError         null    function({reason, count, message, status, body}) for events the server
 *                           rejected (reason "rejected") or the client dropped ("queue_full",
 *                           "gave_up" after maxRetries, "invalid" for data JSON cannot encode);
 *                           default: console.warn
 *
 * Wire format (see docs/browser_client.rst):
 *
 *   POST endpoint, Content-Type: application/json, X-CSRFToken: <token>
 *   {"events": [{"event_type": "...", "event": {...}, "page": location.href,
 *                "timestamp": "2024-01-01T00:00:00.000Z", "node_id": "..."}]}
 *   -> 202 {"results": [{"index": 0, "id": "..."} | {"index": 1, "errors": {...}}],
 *           "accepted": n, "rejected": m}          (400 when every event was rejected)
 */
(function (root) {
  "use strict";

  // Loaded twice (a <script> tag and an import of event-hub.mjs): keep the first instance.
  if (root.EventHub && root.EventHub.createClient) {
    return;
  }

  var VERSION = "1";
  // Browsers refuse keepalive requests once the bodies of those in flight exceed 64 KiB. Batches
  // stay under it, so any request can be a keepalive one while the budget lasts.
  var KEEPALIVE_BUDGET = 65536;
  var WRAPPER_BYTES = 13; // {"events":[ and ]}
  var MAX_BATCH_BYTES = KEEPALIVE_BUDGET - WRAPPER_BYTES;
  var DEFAULTS = {
    endpoint: "/api/tracking",
    csrfToken: null,
    csrfCookieName: "csrftoken",
    batchSize: 20,
    flushInterval: 2000,
    maxQueue: 1000,
    maxRetries: 6,
    retryDelay: 1000,
    maxRetryDelay: 60000,
    pageClose: false,
    onResponse: null,
    onError: null,
  };
  var NUMBERS = {
    batchSize: 1, flushInterval: 0, maxQueue: 1, maxRetries: 0, retryDelay: 0, maxRetryDelay: 0,
  };

  function warn() {
    if (root.console && root.console.warn) {
      root.console.warn.apply(root.console, ["[event-hub]"].concat([].slice.call(arguments)));
    }
  }

  var encoder = root.TextEncoder ? new root.TextEncoder() : null;

  function byteLength(text) {
    return encoder ? encoder.encode(text).length : text.length * 3; // * 3: the UTF-8 worst case
  }

  function readCookie(name) {
    var cookies = root.document && root.document.cookie ? root.document.cookie.split(";") : [];
    for (var i = 0; i < cookies.length; i++) {
      var pair = cookies[i].trim();
      if (pair.slice(0, name.length + 1) === name + "=") {
        return decodeURIComponent(pair.slice(name.length + 1));
      }
    }
    return null;
  }

  function now() {
    return Date.now();
  }

  function merge(current, options) {
    var merged = {};
    var key;
    for (key in current) {
      merged[key] = current[key];
    }
    for (key in options || {}) {
      if (!Object.prototype.hasOwnProperty.call(DEFAULTS, key)) {
        warn("unknown option ignored:", key);
      } else if (key in NUMBERS && !(typeof options[key] === "number" && options[key] >= NUMBERS[key])) {
        warn("option " + key + " must be a number >= " + NUMBERS[key] + "; keeping", merged[key]);
      } else {
        merged[key] = options[key];
      }
    }
    return merged;
  }

  function Client(options) {
    this.options = merge(DEFAULTS, options);
    this.stats = { tracked: 0, requests: 0, accepted: 0, rejected: 0, dropped: 0, retries: 0 };
    this._queue = []; // [{json, bytes}], oldest first
    this._timer = null;
    this._timerDue = 0;
    this._sending = null; // promise of the running send loop
    this._attempt = 0; // failed attempts of the batch at the head of the queue
    this._retryAt = 0;
    this._keepaliveBytes = 0; // bodies of keepalive requests still in flight
    this._closed = false;
    this._listen();
  }

  Client.prototype.configure = function (options) {
    this.options = merge(this.options, options);
    return this;
  };

  Client.prototype.pending = function () {
    return this._queue.length;
  };

  Client.prototype.track = function (type, data, extra) {
    try {
      if (this._closed) {
        return false;
      }
      if (typeof type !== "string" || !type) {
        this._report({ reason: "invalid", count: 1, message: "not queued: the event type must be a string" });
        return false;
      }
      var record = {
        event_type: type,
        event: data === undefined || data === null ? {} : data,
        timestamp: new Date().toISOString(),
      };
      if (root.location) {
        record.page = String(root.location.href);
      }
      if (extra && extra.nodeId) {
        record.node_id = String(extra.nodeId);
      }
      var json = JSON.stringify(record);
      this._queue.push({ json: json, bytes: byteLength(json) });
      this.stats.tracked += 1;
      this._trim();
      if (this._queue.length >= this.options.batchSize) {
        this._schedule(0);
      } else {
        this._schedule(this.options.flushInterval);
      }
      return true;
    } catch (error) {
      this._report({ reason: "invalid", count: 1, message: "not queued: " + error });
      return false;
    }
  };

  Client.prototype.flush = function () {
    var self = this;
    var running = this._sending || Promise.resolve();
    return running.then(function () {
      self._retryAt = 0;
      return self._pump();
    });
  };

  Client.prototype.close = function () {
    this._flushNow();
    this._closed = true;
    this._clearTimer();
    this._unlisten();
  };

  // --- scheduling ------------------------------------------------------------------------------

  Client.prototype._schedule = function (delay) {
    if (this._closed) {
      return;
    }
    var due = Math.max(now() + delay, this._retryAt);
    if (this._timer !== null && this._timerDue <= due) {
      return;
    }
    this._clearTimer();
    var self = this;
    this._timerDue = due;
    this._timer = setTimeout(function () {
      self._timer = null;
      self._pump();
    }, Math.max(0, due - now()));
  };

  Client.prototype._clearTimer = function () {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  };

  Client.prototype._trim = function () {
    var excess = this._queue.length - this.options.maxQueue;
    if (excess > 0) {
      this._queue.splice(0, excess);
      this._attempt = 0;
      this._report({
        reason: "queue_full",
        count: excess,
        message: "dropped: the queue is full (maxQueue=" + this.options.maxQueue + ")",
      });
    }
  };

  // The send loop: one request at a time, each batch retried at the head of the queue.
  Client.prototype._pump = function () {
    if (this._sending) {
      return this._sending;
    }
    var self = this;
    this._sending = new Promise(function (resolve) {
      function next() {
        if (self._closed || !self._queue.length) {
          return resolve();
        }
        if (now() < self._retryAt) {
          self._schedule(0);
          return resolve();
        }
        var batch = self._take(self._queue, self.options.batchSize, MAX_BATCH_BYTES);
        self._post(batch).then(function (outcome) {
          if (outcome.retry) {
            self._requeue(batch, outcome.retryAfter);
          } else {
            self._attempt = 0;
          }
          next();
        });
      }
      next();
    }).then(function () {
      self._sending = null;
    });
    return this._sending;
  };

  Client.prototype._take = function (queue, count, maxBytes) {
    var batch = [];
    var bytes = 0;
    // Always at least one event; then as many as fit both limits (+1: the comma between them).
    while (queue.length && batch.length < count) {
      if (batch.length && bytes + queue[0].bytes + 1 > maxBytes) {
        break;
      }
      bytes += queue[0].bytes + 1;
      batch.push(queue.shift());
    }
    return batch;
  };

  Client.prototype._requeue = function (batch, retryAfter) {
    this._attempt += 1;
    if (this._attempt > this.options.maxRetries) {
      this._attempt = 0;
      this._report({
        reason: "gave_up",
        count: batch.length,
        message: "dropped after " + this.options.maxRetries + " retries",
      });
      return;
    }
    this.stats.retries += 1;
    this._queue = batch.concat(this._queue);
    this._trim();
    var delay = this.options.retryDelay * Math.pow(2, this._attempt - 1);
    delay = Math.min(this.options.maxRetryDelay, delay);
    delay = delay / 2 + Math.random() * (delay / 2);
    if (retryAfter) {
      delay = Math.max(delay, Math.min(this.options.maxRetryDelay, retryAfter));
    }
    this._retryAt = now() + delay;
    this._schedule(0);
  };

  // --- leaving the page ------------------------------------------------------------------------

  // Send the whole queue at once with keepalive requests, which outlive the page; what does not
  // fit the browser's keepalive budget goes out as ordinary requests (delivered if the page stays).
  // Requests of the send loop still in flight are keepalive ones too, when they fitted the budget.
  Client.prototype._flushNow = function () {
    if (this._closed) {
      return;
    }
    this._clearTimer();
    var self = this;
    while (this._queue.length) {
      var budget = KEEPALIVE_BUDGET - this._keepaliveBytes - WRAPPER_BYTES;
      var limit = this._queue[0].bytes + 1 <= budget ? budget : MAX_BATCH_BYTES;
      var batch = this._take(this._queue, this.options.batchSize, limit);
      this._post(batch).then(
        (function (sent) {
          return function (outcome) {
            if (outcome.retry) {
              self._requeue(sent, outcome.retryAfter);
            }
          };
        })(batch),
      );
    }
  };

  Client.prototype._listen = function () {
    var self = this;
    if (!root.addEventListener || !root.document) {
      return;
    }
    this._handlers = {
      visibilitychange: function () {
        if (root.document.visibilityState === "hidden") {
          self._flushNow();
        }
      },
      pagehide: function () {
        if (self.options.pageClose) {
          self.track("page_close", {});
        }
        self._flushNow();
      },
      online: function () {
        self._retryAt = 0;
        self._schedule(0);
      },
    };
    root.document.addEventListener("visibilitychange", this._handlers.visibilitychange);
    root.addEventListener("pagehide", this._handlers.pagehide);
    root.addEventListener("online", this._handlers.online);
  };

  Client.prototype._unlisten = function () {
    if (!this._handlers) {
      return;
    }
    root.document.removeEventListener("visibilitychange", this._handlers.visibilitychange);
    root.removeEventListener("pagehide", this._handlers.pagehide);
    root.removeEventListener("online", this._handlers.online);
    this._handlers = null;
  };

  // --- one request -----------------------------------------------------------------------------

  Client.prototype._csrfToken = function () {
    var token = this.options.csrfToken;
    if (typeof token === "function") {
      token = token();
    }
    return token || readCookie(this.options.csrfCookieName);
  };

  // A keepalive request when the body fits what is left of the budget. Resolves (never rejects)
  // to {retry: boolean, retryAfter: ms}.
  Client.prototype._post = function (batch) {
    var self = this;
    var body = '{"events":[' + batch.map(function (entry) { return entry.json; }).join(",") + "]}";
    var headers = { "Content-Type": "application/json" };
    var bytes = WRAPPER_BYTES - 1;
    batch.forEach(function (entry) { bytes += entry.bytes + 1; });
    var keepalive = bytes <= KEEPALIVE_BUDGET - this._keepaliveBytes;
    if (!keepalive) {
      bytes = 0;
    }
    try {
      var token = this._csrfToken();
      if (token) {
        headers["X-CSRFToken"] = token;
      }
      this._keepaliveBytes += bytes;
      this.stats.requests += 1;
      var request = root.fetch(this.options.endpoint, {
        method: "POST",
        headers: headers,
        body: body,
        credentials: "same-origin",
        keepalive: keepalive,
      });
    } catch (error) {
      this._keepaliveBytes -= bytes;
      return Promise.resolve({ retry: true });
    }
    return request.then(
      function (response) {
        self._keepaliveBytes -= bytes;
        return response.text().then(
          function (text) { return self._answer(response, text, batch.length); },
          function () { return self._answer(response, "", batch.length); },
        );
      },
      function () {
        self._keepaliveBytes -= bytes;
        return { retry: true };
      },
    );
  };

  Client.prototype._answer = function (response, text, count) {
    var status = response.status;
    var body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (error) {
      body = null;
    }
    var retryable = status >= 500 || status === 408 || status === 429;
    var accepted = 0;
    var rejected = 0;
    if (response.ok) {
      accepted = body && typeof body.accepted === "number" ? body.accepted : count;
      rejected = body && typeof body.rejected === "number" ? body.rejected : 0;
    } else if (!retryable) {
      rejected = count;
    }
    this.stats.accepted += accepted;
    this.stats.rejected += rejected;
    this._callback("onResponse", {
      status: status, events: count, accepted: accepted, rejected: rejected, body: body,
    });
    if (rejected) {
      this._report({
        reason: "rejected",
        count: rejected,
        message: "rejected by the server (" + status + ")",
        status: status,
        body: body,
      });
    }
    if (!retryable) {
      return { retry: false };
    }
    var retryAfter = Number(response.headers.get("Retry-After"));
    return { retry: true, retryAfter: retryAfter > 0 ? retryAfter * 1000 : 0 };
  };

  Client.prototype._report = function (info) {
    if (info.reason !== "rejected") {
      this.stats.dropped += info.count;
    }
    if (!this._callback("onError", info)) {
      warn(info.count + " event(s) " + info.message, info.body || "");
    }
  };

  Client.prototype._callback = function (name, info) {
    var callback = this.options[name];
    if (typeof callback !== "function") {
      return false;
    }
    try {
      callback(info);
    } catch (error) {
      warn(name + " callback failed:", error);
    }
    return true;
  };

  // --- the global ------------------------------------------------------------------------------

  var shared = null;

  function client() {
    if (!shared) {
      shared = new Client({});
    }
    return shared;
  }

  root.EventHub = {
    version: VERSION,
    init: function (options) {
      return client().configure(options);
    },
    track: function (type, data, extra) {
      return client().track(type, data, extra);
    },
    flush: function () {
      return client().flush();
    },
    createClient: function (options) {
      return new Client(options);
    },
  };
})(typeof globalThis !== "undefined" ? globalThis : window);
