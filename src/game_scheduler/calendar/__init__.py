"""Every game in people's calendars: RFC 5545 feeds, their secret URLs and "Add to calendar"."""
