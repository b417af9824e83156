//! Reading the server's memory and CPU from `/proc/<pid>` (Linux only).
//!
//! The generator runs in its own process, so these numbers are the server's alone.

use serde::{Deserialize, Serialize};

/// `/proc` reports CPU time in USER_HZ ticks, which Linux fixes at 100 per second for
/// userspace on every mainstream architecture (independent of the kernel's internal HZ).
pub const TICKS_PER_SEC: f64 = 100.0;

/// One reading of a process.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ProcSample {
    /// Resident set size now, in KiB (`VmRSS`).
    pub rss_kb: u64,
    /// Peak resident set size, in KiB (`VmHWM`).
    pub hwm_kb: u64,
    /// User + system CPU time, in ticks.
    pub cpu_ticks: u64,
    /// Number of open file descriptors (sockets included), when readable.
    pub fds: u64,
    /// Time its threads spent runnable but waiting for a CPU, in ns (the sum of the second
    /// field of `/proc/<pid>/task/*/schedstat`; 0 where the kernel has no schedstats).
    pub run_wait_ns: u64,
}

/// Reads one sample of process `pid`.
pub fn sample(pid: u32) -> Result<ProcSample, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("cannot read /proc/{pid}/stat: {e}"))?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    Ok(ProcSample {
        rss_kb: status_kb(&status, "VmRSS:").ok_or("no VmRSS in status")?,
        hwm_kb: status_kb(&status, "VmHWM:").unwrap_or(0),
        cpu_ticks: stat_cpu_ticks(&stat).ok_or("malformed /proc/<pid>/stat")?,
        fds,
        run_wait_ns: run_wait_ns(pid),
    })
}

/// Summed run-queue wait of every thread of `pid`: how long it was ready to run while other
/// work held the CPUs. It tells a server that waits for a CPU from one that waits on itself.
/// Threads that ended before the reading are not counted (the server's workers live as long
/// as it does).
pub fn run_wait_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| parse_schedstat(&s))
        .sum()
}

/// The run-queue wait (second field, ns) of a `schedstat` line: `on_cpu_ns wait_ns slices`.
pub fn parse_schedstat(line: &str) -> Option<u64> {
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The value in kB of a `Key:   1234 kB` line of `/proc/<pid>/status`.
pub fn status_kb(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// utime + stime (fields 14 and 15) of `/proc/<pid>/stat`.
pub fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    // Field 2 is the command name in parentheses and may itself contain spaces or ')', so
    // count fields from the last ')': after it comes field 3 (state).
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

/// Machine-wide CPU counters (first line of `/proc/stat`): (idle + iowait, total) ticks.
pub fn machine_cpu() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_machine_cpu(stat.lines().next()?)
}

/// Parses `cpu  user nice system idle iowait irq softirq steal ...`.
pub fn parse_machine_cpu(line: &str) -> Option<(u64, u64)> {
    let mut it = line.split_whitespace();
    if it.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = it.map(|x| x.parse().ok()).collect::<Option<_>>()?;
    if v.len() < 5 {
        return None;
    }
    // guest time is already included in user and nice; count the first 8 fields only.
    let total = v.iter().take(8).sum();
    Some((v[3] + v[4], total))
}

/// The 1-minute load average, and the share of time some task waited for a CPU over the
/// last 10 s (`/proc/pressure/cpu`), when the kernel reports them.
pub fn machine_load() -> (Option<f64>, Option<f64>) {
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()));
    let pressure = std::fs::read_to_string("/proc/pressure/cpu")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("some"))?;
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix("avg10="))
                .and_then(|x| x.parse().ok())
        });
    (load, pressure)
}

#[cfg(test)]
mod tests {
    #[test]
    fn schedstat_gives_the_run_queue_wait() {
        assert_eq!(parse_schedstat("123456 7890 42\n"), Some(7890));
        assert_eq!(parse_schedstat("garbage"), None);
        // This very process has threads with a schedstat (or none where unsupported).
        let _ = run_wait_ns(std::process::id());
    }

    use super::*;

    #[test]
    fn parses_status_and_stat_lines() {
        let status = "Name:\tmatinee-server\nVmHWM:\t  20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(status_kb(status, "VmRSS:"), Some(10240));
        assert_eq!(status_kb(status, "VmHWM:"), Some(20480));
        assert_eq!(status_kb(status, "VmSwap:"), None);
        // A command name with a space and a parenthesis must not shift the fields.
        let stat = "1234 (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0";
        assert_eq!(stat_cpu_ticks(stat), Some(325));
        assert_eq!(stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn parses_machine_cpu_line() {
        assert_eq!(
            parse_machine_cpu("cpu  145451 58803 46906 141922 1633 0 1984 203 0 0"),
            Some((
                141922 + 1633,
                145451 + 58803 + 46906 + 141922 + 1633 + 1984 + 203
            ))
        );
        assert_eq!(parse_machine_cpu("cpu0 1 2 3 4 5"), None);
        assert_eq!(parse_machine_cpu("cpu 1 x 3 4 5"), None);
        assert!(machine_cpu().is_some());
    }

    #[test]
    fn samples_this_process() {
        let s = sample(std::process::id()).expect("own /proc entry is readable");
        assert!(s.rss_kb > 0 && s.hwm_kb >= s.rss_kb && s.fds > 0, "{s:?}");
        assert!(sample(u32::MAX).is_err());
    }
}
