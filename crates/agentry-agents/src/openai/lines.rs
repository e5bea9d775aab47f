//! Server-sent events as they arrive: bytes in, the payloads of whole `data:` lines out.

/// What has arrived of the event stream but does not yet end a line.
#[derive(Debug, Default)]
pub(super) struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// The `data:` payloads that `bytes` completes; a line split between two network chunks
    /// (even inside a UTF-8 character) waits for its end.
    pub(super) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let Some(end) = self.partial.iter().rposition(|&byte| byte == b'\n') else {
            return Vec::new();
        };
        let whole: Vec<u8> = self.partial.drain(..=end).collect();
        String::from_utf8_lossy(&whole)
            .lines()
            .filter_map(payload)
            .collect()
    }
}

/// The payload of a `data:` line, without the one space SSE allows after the colon. Chat
/// completions put each chunk on one `data:` line, so event names, ids and comments
/// (keep-alives) carry nothing needed.
fn payload(line: &str) -> Option<String> {
    let data = line.strip_prefix("data:")?;
    Some(data.strip_prefix(' ').unwrap_or(data).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines_come_out_whole_whatever_the_chunking() {
        let stream = "data: {\"a\":\"é\"}\r\n\n: keep-alive\nevent: x\ndata:[DONE]\n\n";
        let mut lines = Lines::default();
        let mut out = Vec::new();
        for byte in stream.as_bytes() {
            out.extend(lines.push(std::slice::from_ref(byte)));
        }
        assert_eq!(out, ["{\"a\":\"é\"}", "[DONE]"]);
        assert_eq!(Lines::default().push(b"data: cut"), Vec::<String>::new());
    }
}
