from django.apps import AppConfig


class DevsiteConfig(AppConfig):
    name = "devsite"
    verbose_name = "event_hub dev host"
