// Server-sent event streams: each message is one stored Event as JSON, with its id as the
// SSE id, so EventSource resumes after the last one it saw when it reconnects.

/**
 * Follows the stream at `url`. `onEvent` gets each Event; `onState` gets "connecting", "live"
 * or "unavailable" (the server refused the stream, e.g. 404 from a server without it: the
 * browser does not retry those). Returns a function that stops following.
 */
export function follow(url, { onEvent, onState = () => {} }) {
  const source = new EventSource(url);
  onState("connecting");
  source.onopen = () => onState("live");
  source.onerror = () => {
    onState(source.readyState === EventSource.CLOSED ? "unavailable" : "connecting");
  };
  source.onmessage = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return; // not an Event: nothing to show
    }
    onEvent(event);
  };
  return () => source.close();
}

const STATE_TEXT = { connecting: "connecting…", live: "live", unavailable: "live updates not available" };

/** Shows a stream's state in `element` (its text, and `data-state` for styling and tests). */
export function showState(element, state) {
  element.dataset.state = state;
  element.textContent = STATE_TEXT[state];
}
