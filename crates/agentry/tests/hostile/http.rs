//! Attacks through the HTTP API: web pages (CSRF, DNS rebinding) and floods of connections and requests.
