//! Command-line options (hand-parsed: a dozen flags do not justify a parser dependency).

use std::net::Ipv4Addr;

pub const HELP: &str = "\
loadgen: load generator for the Matinee session server (protocol v1)

USAGE: loadgen [OPTIONS]

  --url URL             WebSocket endpoint [default: ws://127.0.0.1:3000/ws]; give it
                        again for more instances sharing rooms (store.backend = redis):
                        member j of each room connects to URL j mod the number of URLs,
                        so hosts are on the first and rooms span the instances; fan-out
                        to members on another URL than their host's is also reported
                        alone (relayed_*)
  --connections N       clients to open in total [default: 100]
  --room-size K         clients per room, the first one creates it and is host [default: 5]
  --ramp-per-sec R      new connections per second, 0 = all at once [default: 500;
                        join-storm: 0]
  --duration S          seconds of measured steady state after the ramp [default: 20]
  --settle S            seconds between the end of the ramp and measuring [default: 2]
  --control-every T     each host sends play/seek/pause every T s, 0 = never [default: 5]
  --ping-every S        each client pings every S s, 0 = never [default: 2]
  --status-every S      each client sends status every S s, 0 = never [default: 1]
  --mode MODE           steady | join-storm | churn [default: steady]
                          join-storm: every client connects and joins at once; reports
                          the time until all have joined and join latencies
                          churn: non-host members leave and a new client joins in their
                          place after a random lifetime (see --churn-life)
  --churn-life S        mean lifetime of a churning member in seconds [default: 10]
  --server-pid PID      read the server's RSS and CPU from /proc/PID
  --procs P             split the clients over P generator processes (rooms never span
                        processes), to stay under the per-process open-file limit [default: 1]
  --source-addrs A      spread client sockets over A loopback source addresses per process
                        (127.0.<process+1>.1 ..), each has its own ephemeral port range
                        [default: 1 per 10,000 connections]
  --connect-timeout S   seconds allowed for connect + handshake + hello + join [default: 15]
  --json                also print the merged report as one JSON object
  --help                this text

Prints one summary line `loadgen: mode=... conns=... held=... p50_ms=... p99_ms=... ...`.
Fan-out latency is measured from the instant a host sends play/pause/seek to the instant
each other member of its room receives the resulting `state` (one process clock).
";

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Steady,
    JoinStorm,
    Churn,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Args {
    /// The first endpoint (hosts connect here; `/metrics` is read from it).
    pub url: String,
    /// Every endpoint, `url` first; members of a room are spread over them.
    pub urls: Vec<String>,
    pub connections: usize,
    pub room_size: usize,
    /// New connections per second; 0 means no pacing.
    pub ramp_per_sec: f64,
    pub duration: f64,
    pub settle: f64,
    pub control_every: f64,
    pub ping_every: f64,
    pub status_every: f64,
    pub mode: Mode,
    pub churn_life: f64,
    pub server_pid: Option<u32>,
    pub procs: usize,
    pub source_addrs: usize,
    pub connect_timeout: f64,
    pub json: bool,
    /// Internal: this process is worker `i` of `procs`, driven over stdin/stdout.
    pub worker: Option<usize>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            url: "ws://127.0.0.1:3000/ws".into(),
            urls: vec!["ws://127.0.0.1:3000/ws".into()],
            connections: 100,
            room_size: 5,
            ramp_per_sec: 500.0,
            duration: 20.0,
            settle: 2.0,
            control_every: 5.0,
            ping_every: 2.0,
            status_every: 1.0,
            mode: Mode::Steady,
            churn_life: 10.0,
            server_pid: None,
            procs: 1,
            source_addrs: 0,
            connect_timeout: 15.0,
            json: false,
            worker: None,
        }
    }
}

/// Outcome of parsing: run with these options, or print help.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Run(Box<Args>),
    Help,
}

fn num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{flag}: '{v}' is not a valid number"))
}

fn non_negative(flag: &str, v: &str) -> Result<f64, String> {
    let x: f64 = num(flag, v)?;
    if !x.is_finite() || x < 0.0 {
        return Err(format!("{flag}: must be a finite number >= 0, got '{v}'"));
    }
    Ok(x)
}

pub fn parse<I: IntoIterator<Item = String>>(argv: I) -> Result<Parsed, String> {
    let mut a = Args::default();
    let mut ramp_given = false;
    let mut url_given = false;
    let mut it = argv.into_iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(Parsed::Help);
        }
        if flag == "--json" {
            a.json = true;
            continue;
        }
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (flag, None),
        };
        let v = match inline {
            Some(v) => v,
            None => it
                .next()
                .ok_or_else(|| format!("{flag}: missing value (see --help)"))?,
        };
        match flag.as_str() {
            "--url" => {
                if !(v.starts_with("ws://") || v.starts_with("wss://")) {
                    return Err(format!("--url: expected ws://HOST:PORT/PATH, got '{v}'"));
                }
                if v.starts_with("wss://") {
                    return Err(
                        "--url: wss:// is not supported; point loadgen at the server \
                                itself (ws://), not at a TLS proxy"
                            .into(),
                    );
                }
                if !url_given {
                    a.urls.clear();
                    url_given = true;
                }
                if a.urls.contains(&v) {
                    return Err(format!("--url: '{v}' given twice"));
                }
                a.urls.push(v);
                a.url = a.urls[0].clone();
            }
            "--connections" => a.connections = num(&flag, &v)?,
            "--room-size" => a.room_size = num(&flag, &v)?,
            "--ramp-per-sec" => {
                a.ramp_per_sec = non_negative(&flag, &v)?;
                ramp_given = true
            }
            "--duration" => a.duration = non_negative(&flag, &v)?,
            "--settle" => a.settle = non_negative(&flag, &v)?,
            "--control-every" => a.control_every = non_negative(&flag, &v)?,
            "--ping-every" => a.ping_every = non_negative(&flag, &v)?,
            "--status-every" => a.status_every = non_negative(&flag, &v)?,
            "--churn-life" => a.churn_life = non_negative(&flag, &v)?,
            "--connect-timeout" => a.connect_timeout = non_negative(&flag, &v)?,
            "--mode" => {
                a.mode = match v.as_str() {
                    "steady" => Mode::Steady,
                    "join-storm" => Mode::JoinStorm,
                    "churn" => Mode::Churn,
                    _ => {
                        return Err(format!(
                            "--mode: expected steady|join-storm|churn, got '{v}'"
                        ))
                    }
                }
            }
            "--server-pid" => a.server_pid = Some(num(&flag, &v)?),
            "--procs" => a.procs = num(&flag, &v)?,
            "--source-addrs" => a.source_addrs = num(&flag, &v)?,
            "--worker" => a.worker = Some(num(&flag, &v)?),
            _ => return Err(format!("unknown option '{flag}' (see --help)")),
        }
    }
    if a.connections == 0 {
        return Err("--connections: must be at least 1".into());
    }
    if a.room_size == 0 {
        return Err("--room-size: must be at least 1".into());
    }
    if a.procs == 0 || a.procs > 64 {
        return Err("--procs: must be between 1 and 64".into());
    }
    if a.source_addrs > 250 {
        return Err("--source-addrs: at most 250".into());
    }
    if a.mode == Mode::Churn && a.churn_life < 0.5 {
        return Err("--churn-life: at least 0.5 s".into());
    }
    if a.connect_timeout < 1.0 {
        return Err("--connect-timeout: at least 1 s".into());
    }
    if a.mode == Mode::JoinStorm && !ramp_given {
        a.ramp_per_sec = 0.0;
    }
    Ok(Parsed::Run(Box::new(a)))
}

impl Args {
    /// Connections handled by worker `w` of `procs`: whole rooms only, so that a room's
    /// host and members live in one process and share its code in memory.
    pub fn share(&self, w: usize) -> usize {
        let rooms = self.connections.div_ceil(self.room_size);
        let base = rooms / self.procs;
        let extra = usize::from(w < rooms % self.procs);
        let first_room = w * base + w.min(rooms % self.procs);
        let my_rooms = base + extra;
        let first_conn = first_room * self.room_size;
        let last_conn = ((first_room + my_rooms) * self.room_size).min(self.connections);
        last_conn.saturating_sub(first_conn)
    }

    /// The endpoint of member `j` of its room (the host is member 0): members go round the
    /// URLs, so with two a room of five has its host and two members on the first instance
    /// and two members on the second.
    pub fn url_of_member(&self, j: usize) -> usize {
        j % self.urls.len()
    }

    /// The loopback source addresses worker `w` binds its sockets to.
    pub fn source_ips(&self, w: usize, conns: usize) -> Vec<Ipv4Addr> {
        let n = if self.source_addrs > 0 {
            self.source_addrs
        } else {
            conns.div_ceil(10_000).max(1)
        };
        // 127.0.0.0/8 is all loopback on Linux; a separate /24 per worker keeps the
        // workers' ephemeral ports apart.
        (0..n)
            .map(|j| Ipv4Addr::new(127, 0, (w + 1) as u8, (j + 1) as u8))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Parsed, String> {
        parse(s.split_whitespace().map(String::from))
    }

    fn run(s: &str) -> Args {
        match p(s).unwrap() {
            Parsed::Run(a) => *a,
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn defaults_and_flags() {
        assert_eq!(run(""), Args::default());
        let a = run("--url ws://127.0.0.1:9/ws --connections 20000 --room-size=50 --procs 2 --json --server-pid 42 --mode churn");
        assert_eq!(a.url, "ws://127.0.0.1:9/ws");
        assert_eq!(a.urls, vec!["ws://127.0.0.1:9/ws".to_string()]);
        let two = run("--url ws://127.0.0.1:9/ws --url=ws://127.0.0.1:10/ws");
        assert_eq!(two.url, "ws://127.0.0.1:9/ws");
        assert_eq!(two.urls.len(), 2);
        let spread: Vec<usize> = (0..5).map(|j| two.url_of_member(j)).collect();
        assert_eq!(spread, vec![0, 1, 0, 1, 0]);
        assert_eq!(run("").url_of_member(3), 0);
        assert_eq!((a.connections, a.room_size, a.procs), (20000, 50, 2));
        assert_eq!(
            (a.json, a.server_pid, a.mode),
            (true, Some(42), Mode::Churn)
        );
        assert_eq!(p("--help").unwrap(), Parsed::Help);
        // A join storm is unpaced unless a rate is given.
        assert_eq!(run("--mode join-storm").ramp_per_sec, 0.0);
        assert_eq!(
            run("--mode join-storm --ramp-per-sec 100").ramp_per_sec,
            100.0
        );
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        for (argv, needle) in [
            ("--connections", "missing value"),
            ("--connections ten", "not a valid number"),
            ("--connections 0", "at least 1"),
            ("--duration -1", ">= 0"),
            ("--duration NaN", ">= 0"),
            ("--mode fast", "steady|join-storm|churn"),
            ("--url http://x", "ws://"),
            ("--url ws://a/ws --url ws://a/ws", "given twice"),
            ("--frobnicate 1", "unknown option"),
            ("--procs 0", "between 1 and 64"),
        ] {
            let err = p(argv).unwrap_err();
            assert!(err.contains(needle), "{argv}: {err}");
        }
    }

    #[test]
    fn shares_are_whole_rooms_and_add_up() {
        for (conns, k, procs) in [
            (20000, 5, 2),
            (20000, 50, 3),
            (7, 5, 2),
            (101, 5, 4),
            (3, 5, 4),
        ] {
            let a = Args {
                connections: conns,
                room_size: k,
                procs,
                ..Args::default()
            };
            let shares: Vec<usize> = (0..procs).map(|w| a.share(w)).collect();
            assert_eq!(shares.iter().sum::<usize>(), conns, "{shares:?}");
            // Every worker but the last holding a partial room has a multiple of k.
            let partial = shares.iter().filter(|s| **s % k != 0).count();
            assert!(partial <= 1, "{shares:?}");
        }
    }

    #[test]
    fn source_addresses_differ_per_worker() {
        let a = Args::default();
        assert_eq!(a.source_ips(0, 100), vec![Ipv4Addr::new(127, 0, 1, 1)]);
        assert_eq!(a.source_ips(1, 25_000).len(), 3);
        assert_eq!(a.source_ips(1, 25_000)[2], Ipv4Addr::new(127, 0, 2, 3));
    }
}
