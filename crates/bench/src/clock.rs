//! UTC calendar arithmetic for timestamps and file names (no time-zone database needed:
//! the generator names files as if the local zone were UTC).

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// `(year, month, day)` of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a calendar date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds at midnight UTC of a date.
pub fn date_ms(y: i64, m: u32, d: u32) -> Millis {
    (days_from_civil(y, m, d) * 86_400_000) as Millis
}

struct Parts {
    y: i64,
    mo: u32,
    d: u32,
    h: u64,
    mi: u64,
    s: u64,
    ms: u64,
}

fn parts(ms: Millis) -> Parts {
    let days = (ms / 86_400_000) as i64;
    let rem = ms % 86_400_000;
    let (y, mo, d) = civil_from_days(days);
    Parts {
        y,
        mo,
        d,
        h: rem / 3_600_000,
        mi: rem / 60_000 % 60,
        s: rem / 1000 % 60,
        ms: rem % 1000,
    }
}

/// RFC 3339 with milliseconds, as in Codex lines: `2026-11-21T22:35:30.174Z`.
pub fn rfc3339(ms: Millis) -> String {
    let p = parts(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        p.y, p.mo, p.d, p.h, p.mi, p.s, p.ms
    )
}

/// The file-name stamp `2026-11-21T22-35-30`.
pub fn file_stamp(ms: Millis) -> String {
    let p = parts(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}",
        p.y, p.mo, p.d, p.h, p.mi, p.s
    )
}

/// The date directories `YYYY/MM/DD`.
pub fn date_dirs(ms: Millis) -> String {
    let p = parts(ms);
    format!("{:04}/{:02}/{:02}", p.y, p.mo, p.d)
}

/// `YYYY-MM-DD`.
pub fn date(ms: Millis) -> String {
    let p = parts(ms);
    format!("{:04}-{:02}-{:02}", p.y, p.mo, p.d)
}

/// Parses `YYYY-MM-DDTHH:MM:SS(.mmm)?Z` back to milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u64>().ok();
    let day = date_ms(n(0..4)? as i64, n(5..7)? as u32, n(8..10)? as u32);
    let ms = if b.get(19) == Some(&b'.') {
        n(20..23).unwrap_or(0)
    } else {
        0
    };
    Some(day + n(11..13)? * 3_600_000 + n(14..16)? * 60_000 + n(17..19)? * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let ms = 1_795_300_530_174;
        assert_eq!(rfc3339(ms), "2026-11-21T22:35:30.174Z");
        assert_eq!(file_stamp(ms), "2026-11-21T22-35-30");
        assert_eq!(date_dirs(ms), "2026/11/21");
        assert_eq!(parse_rfc3339("2026-11-21T22:35:30.174Z"), Some(ms));
        for d in [-1000i64, 0, 59, 60, 20_000, 20_513] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }
}
