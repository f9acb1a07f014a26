//! The origins Gatehouse answers on: the configured public one, or the
//! loopback names of a local run.

use axum::http::Uri;

/// Parses a configured public origin: `http(s)://host[:port]`, nothing
/// after it.
pub fn parse_origin(text: &str) -> Option<String> {
    let uri = text.trim_end_matches('/').parse::<Uri>().ok()?;
    let scheme = uri.scheme_str().filter(|s| *s == "http" || *s == "https")?;
    let authority = uri.authority()?;
    let bare = uri.path_and_query().is_none_or(|pq| pq.as_str().is_empty() || pq.as_str() == "/");
    (bare && !authority.as_str().contains('@'))
        .then(|| format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()))
}

/// The origins a local run answers on: the loopback names at `port`.
pub fn loopback_origins(scheme: &str, port: u16) -> Vec<String> {
    ["127.0.0.1", "localhost", "[::1]"].iter().map(|h| format!("{scheme}://{h}:{port}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_origins_are_strict() {
        assert_eq!(parse_origin("https://App.Example.com/").as_deref(), Some("https://app.example.com"));
        assert_eq!(parse_origin("http://127.0.0.1:3000").as_deref(), Some("http://127.0.0.1:3000"));
        for bad in
            ["app.example.com", "ftp://app.example.com", "https://app.example.com/path", "https://u@app.example.com"]
        {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }
}
