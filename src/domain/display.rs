//! Turning stored facts into words people read. Pure and deterministic,
//! so the server and the browser render exactly the same text.

/// "Chrome on Linux", "Safari on iOS", "curl", or "Unknown device".
pub fn describe_user_agent(ua: &str) -> String {
    if ua.trim().is_empty() {
        return "Unknown device".to_owned();
    }
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("HeadlessChrome/", "Headless Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("reqwest", "reqwest"),
        ("okhttp", "Android app"),
        ("CFNetwork", "iOS app"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    let os = [
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => format!("A browser on {o}"),
        (None, None) => "Unknown device".to_owned(),
    }
}

/// `a=1&b=x%20y`: a query string from pairs, empty values left out,
/// everything but unreserved characters percent-encoded.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// "Firefox on Linux · 203.0.113.7": a device and the address it came from.
pub fn device_and_address(user_agent: &str, ip: &str) -> String {
    let ip = if ip.is_empty() { "address unknown" } else { ip };
    format!("{} · {ip}", describe_user_agent(user_agent))
}

/// `2026-11-22 12:16 UTC` from Unix seconds.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_encode_and_skip_empty_values() {
        assert_eq!(query_string(&[("search", "a b&c"), ("page", "2"), ("kind", "")]), "search=a%20b%26c&page=2");
        assert_eq!(query_string(&[("user", "ａ")]), "user=%EF%BD%81");
    }

    #[test]
    fn common_agents_read_naturally() {
        let chrome_linux =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        let safari_iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        let edge_windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        let firefox_mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0";
        assert_eq!(describe_user_agent(chrome_linux), "Chrome on Linux");
        assert_eq!(describe_user_agent(safari_iphone), "Safari on iOS");
        assert_eq!(describe_user_agent(edge_windows), "Edge on Windows");
        assert_eq!(describe_user_agent(firefox_mac), "Firefox on macOS");
        assert_eq!(describe_user_agent("curl/8.5.0"), "curl");
        assert_eq!(describe_user_agent(""), "Unknown device");
        assert_eq!(describe_user_agent("<script>"), "Unknown device");
    }

    #[test]
    fn dates_are_exact() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_795_349_444), "2026-11-22 12:10 UTC");
        assert_eq!(format_utc(4_102_444_799), "2099-12-31 23:59 UTC");
    }
}
