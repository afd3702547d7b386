"""Typed events and the RabbitMQ plumbing that carries them."""
