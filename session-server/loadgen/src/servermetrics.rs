//! The server's own fan-out histogram over the measuring window: `/metrics` read at the
//! window's start and end, the difference turned into quantiles per frame type. This is the
//! server's view of the same period the clients measure (the ramp and the teardown, when
//! thousands of connections open or close at once, are outside it).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NAME: &str = "matinee_fanout_latency_seconds_bucket{";

/// Cumulative bucket counts per frame type: type → [(upper bound in s, count)].
pub type Buckets = BTreeMap<String, Vec<(f64, f64)>>;

/// `GET /metrics` on the server, over plain HTTP/1.0 (no client library needed for one GET).
pub async fn scrape(server: SocketAddr) -> Result<String, String> {
    let mut s = tokio::net::TcpStream::connect(server)
        .await
        .map_err(|e| format!("metrics: {e}"))?;
    let req = format!("GET /metrics HTTP/1.0\r\nHost: {server}\r\n\r\n");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("metrics: {e}"))?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)
        .await
        .map_err(|e| format!("metrics: {e}"))?;
    let text = String::from_utf8_lossy(&buf);
    match text.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.") && head.contains(" 200 ") => {
            Ok(body.to_string())
        }
        _ => Err("metrics: unexpected answer".into()),
    }
}

/// The fan-out buckets of a `/metrics` text (`+Inf` as infinity).
pub fn parse(text: &str) -> Buckets {
    let mut out = Buckets::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(NAME) else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let mut kind = None;
        let mut le = None;
        for kv in labels.split(',') {
            match kv.split_once('=') {
                Some(("type", v)) => kind = Some(v.trim_matches('"').to_string()),
                Some(("le", v)) => {
                    let v = v.trim_matches('"');
                    le = if v == "+Inf" {
                        Some(f64::INFINITY)
                    } else {
                        v.parse().ok()
                    };
                }
                _ => {}
            }
        }
        if let (Some(k), Some(le), Ok(n)) = (kind, le, value.trim().parse::<f64>()) {
            out.entry(k).or_default().push((le, n));
        }
    }
    out
}

/// One frame type's figures over the window: quantiles as the bucket bound they fall under.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Window {
    pub frames: u64,
    pub p50_le_ms: f64,
    pub p99_le_ms: f64,
    pub p999_le_ms: f64,
}

fn quantile(b: &[(f64, f64)], total: f64, q: f64) -> f64 {
    b.iter()
        .find(|(_, c)| *c >= q * total)
        .map_or(f64::INFINITY, |(le, _)| *le * 1000.0)
}

/// `end − start` per type, as quantiles; types with no frames in the window are left out.
pub fn window(start: &Buckets, end: &Buckets) -> BTreeMap<String, Window> {
    let mut out = BTreeMap::new();
    for (kind, e) in end {
        let s = start.get(kind);
        let d: Vec<(f64, f64)> = e
            .iter()
            .enumerate()
            .map(|(i, (le, c))| (*le, c - s.and_then(|s| s.get(i)).map_or(0.0, |x| x.1)))
            .collect();
        let total = d.last().map_or(0.0, |x| x.1);
        if total > 0.0 {
            out.insert(
                kind.clone(),
                Window {
                    frames: total as u64,
                    p50_le_ms: quantile(&d, total, 0.5),
                    p99_le_ms: quantile(&d, total, 0.99),
                    p999_le_ms: quantile(&d, total, 0.999),
                },
            );
        }
    }
    out
}

/// One line for people: `state n=… p50<=… p99<=… p99.9<=… ms; members …`.
pub fn describe(w: &BTreeMap<String, Window>) -> String {
    let ms = |x: f64| {
        if x.is_finite() {
            format!("{x}")
        } else {
            "inf".into()
        }
    };
    w.iter()
        .map(|(k, v)| {
            format!(
                "{k} n={} p50<={} p99<={} p99.9<={} ms",
                v.frames,
                ms(v.p50_le_ms),
                ms(v.p99_le_ms),
                ms(v.p999_le_ms)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(state: [u64; 3], members: [u64; 3]) -> String {
        let mut t = String::from("# HELP x\nmatinee_rooms 3\n");
        for (kind, c) in [("state", state), ("members", members)] {
            for (le, n) in ["0.001", "0.005", "+Inf"].iter().zip(c) {
                t += &format!("{NAME}type=\"{kind}\",le=\"{le}\"}} {n}\n");
            }
            t += &format!(
                "matinee_fanout_latency_seconds_count{{type=\"{kind}\"}} {}\n",
                c[2]
            );
        }
        t
    }

    #[test]
    fn the_window_is_the_difference_of_two_scrapes() {
        let start = parse(&text([90, 100, 100], [0, 0, 0]));
        assert_eq!(
            start["state"],
            vec![(0.001, 90.0), (0.005, 100.0), (f64::INFINITY, 100.0)]
        );
        // In the window: 100 states, 98 within 1 ms, one within 5 ms, one beyond.
        let end = parse(&text([188, 199, 200], [0, 0, 0]));
        let w = window(&start, &end);
        assert_eq!(w.len(), 1, "members had no frames in the window");
        let s = &w["state"];
        assert_eq!(s.frames, 100);
        assert_eq!((s.p50_le_ms, s.p99_le_ms), (1.0, 5.0));
        assert_eq!(s.p999_le_ms, f64::INFINITY);
        assert!(describe(&w).starts_with("state n=100 p50<=1 p99<=5 p99.9<=inf ms"));
    }
}
