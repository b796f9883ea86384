//! Time for the flash sales: countdowns anchored on the server's clock, the sale editor's
//! `datetime-local` inputs and UTC, and `Retry-After`. Everything but the last section is
//! pure (the caller passes the times in), so it is tested on the host.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

/// Whole seconds from `from` until `target`, never below 0 (a second begun counts whole, so a
/// countdown shows 0:01 until the very end).
pub fn secs_between(from: DateTime<Utc>, target: DateTime<Utc>) -> u64 {
    let ms = target.signed_duration_since(from).num_milliseconds();
    u64::try_from(ms.max(0)).map_or(0, |ms| ms.div_ceil(1000))
}

/// What is left of `secs` counted from an answer after `elapsed_ms` passed on this machine
/// since the answer came (a negative elapsed time, from a clock set back, counts as none).
pub fn left_after(secs: u64, elapsed_ms: f64) -> u64 {
    let elapsed = if elapsed_ms.is_finite() && elapsed_ms > 0.0 { (elapsed_ms / 1000.0) as u64 } else { 0 };
    secs.saturating_sub(elapsed)
}

/// A countdown as a shop shows it: `4:05`, `1:02:03`, `2d 03:04:05`.
pub fn format_countdown(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    match (days, h) {
        (0, 0) => format!("{m}:{s:02}"),
        (0, h) => format!("{h}:{m:02}:{s:02}"),
        (d, h) => format!("{d}d {h:02}:{m:02}:{s:02}"),
    }
}

/// A countdown in words for screen readers: `4 minutes 5 seconds`.
pub fn countdown_words(secs: u64) -> String {
    let parts = [(secs / 86_400, "day"), (secs % 86_400 / 3600, "hour"), (secs % 3600 / 60, "minute")];
    let mut words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    let s = secs % 60;
    if s > 0 || words.is_empty() {
        words.push(format!("{s} second{}", if s == 1 { "" } else { "s" }));
    }
    words.join(" ")
}

// ---------------------------------------------------------------- datetime-local

/// Parses what `<input type="datetime-local">` holds: `2026-11-26T14:03`, with optional
/// seconds (`:27`) and fraction (`.5`, dropped). `None` for anything else.
pub fn parse_datetime_local(input: &str) -> Option<NaiveDateTime> {
    let (date, time) = input.trim().split_once('T')?;
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    let mut d = date.split('-');
    let (y, mo, da) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || !digits(y, 4) || !digits(mo, 2) || !digits(da, 2) {
        return None;
    }
    let time = time
        .split_once('.')
        .map_or(time, |(t, frac)| if frac.bytes().all(|b| b.is_ascii_digit()) { t } else { "invalid" });
    let mut t = time.split(':');
    let (h, mi, s) = (t.next()?, t.next()?, t.next().unwrap_or("00"));
    if t.next().is_some() || !digits(h, 2) || !digits(mi, 2) || !digits(s, 2) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, mo.parse().ok()?, da.parse().ok()?)?;
    let time = NaiveTime::from_hms_opt(h.parse().ok()?, mi.parse().ok()?, s.parse().ok()?)?;
    Some(date.and_time(time))
}

/// A local wall-clock time as UTC, given the zone's offset at that time in the convention of
/// JavaScript's `getTimezoneOffset`: minutes to add to local time to get UTC (`-60` in
/// Central Europe in winter, `300` in New York).
pub fn local_to_utc(local: NaiveDateTime, offset_minutes: i32) -> DateTime<Utc> {
    local.checked_add_signed(Duration::minutes(i64::from(offset_minutes))).unwrap_or(local).and_utc()
}

/// A UTC moment as a `datetime-local` value (`2026-11-26T14:03`) in a zone with that offset
/// (same convention as [`local_to_utc`]). Seconds are dropped, as the input shows none.
pub fn utc_to_local_input(at: DateTime<Utc>, offset_minutes: i32) -> String {
    let utc = at.naive_utc();
    let local = utc.checked_sub_signed(Duration::minutes(i64::from(offset_minutes))).unwrap_or(utc);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

// ---------------------------------------------------------------- Retry-After

/// Seconds a `Retry-After` header asks to wait: delta-seconds (`120`) or an HTTP date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, counted from `now`, at least 0). `None` when unreadable.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<u32> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // An absurdly long number still means "a long time".
        return Some(v.parse::<u64>().map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX)));
    }
    let at = parse_http_date(v)?;
    Some(u32::try_from(secs_between(now, at)).unwrap_or(u32::MAX))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 senders use.
fn parse_http_date(v: &str) -> Option<DateTime<Utc>> {
    let mut parts = v.split_ascii_whitespace();
    let (_weekday, day, month, year, time, zone) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || zone != "GMT" {
        return None;
    }
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let date = NaiveDate::from_ymd_opt(year.parse().ok()?, month, day.parse().ok()?)?;
    let mut t = time.split(':');
    let (h, m, s) = (t.next()?, t.next()?, t.next()?);
    let time = NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, s.parse().ok()?)?;
    Some(date.and_time(time).and_utc())
}

/// What a customer sent too many requests is told: `Slow down — try again in 12 s`.
pub fn slow_down(secs: Option<u32>) -> String {
    match secs {
        Some(n) if n > 0 => format!("Slow down — try again in {n} s"),
        _ => "Slow down — try again in a moment".to_owned(),
    }
}

// ---------------------------------------------------------------- the browser's clock

/// This machine's clock, in milliseconds since the epoch (`Date.now()`; browser only).
pub fn now_ms() -> f64 {
    wasm_bindgen_futures::js_sys::Date::now()
}

/// This machine's clock (browser only).
pub fn now_utc() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(now_ms() as i64).unwrap_or_default()
}

/// A `datetime-local` value in the browser's time zone as UTC (browser only).
pub fn browser_local_to_utc(input: &str) -> Option<DateTime<Utc>> {
    let local = parse_datetime_local(input)?;
    // The zone's offset at that local time (daylight saving time included).
    let probe = wasm_bindgen_futures::js_sys::Date::new_with_year_month_day_hr_min_sec(
        u32::try_from(local.year()).ok()?,
        i32::try_from(local.month0()).ok()?,
        i32::try_from(local.day()).ok()?,
        i32::try_from(local.hour()).ok()?,
        i32::try_from(local.minute()).ok()?,
        i32::try_from(local.second()).ok()?,
    );
    let offset = probe.get_timezone_offset();
    offset.is_finite().then(|| local_to_utc(local, offset as i32))
}

/// A UTC moment as a `datetime-local` value in the browser's time zone (browser only).
pub fn browser_local_input(at: DateTime<Utc>) -> String {
    let date = wasm_bindgen_futures::js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64,
    ));
    let offset = date.get_timezone_offset();
    utc_to_local_input(at, if offset.is_finite() { offset as i32 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn seconds_between_round_a_begun_second_up_and_never_go_negative() {
        let t = at("2026-11-26T10:00:00Z");
        assert_eq!(secs_between(t, at("2026-11-26T10:01:05Z")), 65);
        assert_eq!(secs_between(t, at("2026-11-26T10:00:00.200Z")), 1);
        assert_eq!(secs_between(t, t), 0);
        assert_eq!(secs_between(at("2026-11-26T10:00:05Z"), t), 0);
    }

    #[test]
    fn a_countdown_counts_down_from_the_answer_on_the_local_clock() {
        assert_eq!(left_after(600, 0.0), 600);
        assert_eq!(left_after(600, 999.0), 600);
        assert_eq!(left_after(600, 1000.0), 599);
        assert_eq!(left_after(600, 59_500.0), 541);
        assert_eq!(left_after(5, 10_000.0), 0);
        assert_eq!(left_after(5, -3000.0), 5, "a clock set back changes nothing");
        assert_eq!(left_after(5, f64::NAN), 5);
    }

    #[test]
    fn countdowns_read_like_clocks() {
        assert_eq!(format_countdown(0), "0:00");
        assert_eq!(format_countdown(9), "0:09");
        assert_eq!(format_countdown(599), "9:59");
        assert_eq!(format_countdown(3599), "59:59");
        assert_eq!(format_countdown(3600), "1:00:00");
        assert_eq!(format_countdown(3723), "1:02:03");
        assert_eq!(format_countdown(86_399), "23:59:59");
        assert_eq!(format_countdown(86_400), "1d 00:00:00");
        assert_eq!(format_countdown(2 * 86_400 + 3 * 3600 + 4 * 60 + 5), "2d 03:04:05");
        assert_eq!(countdown_words(0), "0 seconds");
        assert_eq!(countdown_words(61), "1 minute 1 second");
        assert_eq!(countdown_words(7200), "2 hours");
        assert_eq!(countdown_words(90_061), "1 day 1 hour 1 minute 1 second");
    }

    #[test]
    fn datetime_local_values_parse_strictly() {
        let want = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap().and_hms_opt(14, 3, 0).unwrap();
        assert_eq!(parse_datetime_local("2026-11-26T14:03"), Some(want));
        assert_eq!(parse_datetime_local(" 2026-11-26T14:03 "), Some(want));
        assert_eq!(parse_datetime_local("2026-11-26T14:03:00.000"), Some(want));
        assert_eq!(
            parse_datetime_local("2026-11-26T14:03:27"),
            Some(want + Duration::seconds(27)),
            "seconds are kept"
        );
        for bad in [
            "",
            "2026-11-26",
            "2026-11-26 14:03",
            "2026-11-26T14",
            "2026-11-26T25:00",
            "2026-02-30T10:00",
            "26-11-2026T14:03",
            "2026-11-26T14:03:00:00",
            "2026-11-26T14:03:00.x",
            "2026-11-26T14:03Z",
        ] {
            assert_eq!(parse_datetime_local(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn local_times_convert_to_utc_and_back() {
        let local = parse_datetime_local("2026-11-26T14:03").unwrap();
        // Berlin in winter (UTC+1): getTimezoneOffset() is -60
        assert_eq!(local_to_utc(local, -60), at("2026-11-26T13:03:00Z"));
        // New York in winter (UTC-5): 300
        assert_eq!(local_to_utc(local, 300), at("2026-11-26T19:03:00Z"));
        assert_eq!(local_to_utc(local, 0), at("2026-11-26T14:03:00Z"));
        // India (UTC+5:30) across midnight
        let late = parse_datetime_local("2026-01-01T02:00").unwrap();
        assert_eq!(local_to_utc(late, -330), at("2025-12-31T20:30:00Z"));

        assert_eq!(utc_to_local_input(at("2026-11-26T13:03:45Z"), -60), "2026-11-26T14:03");
        assert_eq!(utc_to_local_input(at("2025-12-31T20:30:00Z"), -330), "2026-01-01T02:00");
        assert_eq!(utc_to_local_input(at("2026-11-26T19:03:00Z"), 300), "2026-11-26T14:03");
        for offset in [-840, -330, -60, 0, 240, 300, 720] {
            let back = utc_to_local_input(local_to_utc(local, offset), offset);
            assert_eq!(back, "2026-11-26T14:03", "offset {offset}");
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = at("2026-11-26T10:00:00Z");
        assert_eq!(parse_retry_after("12", now), Some(12));
        assert_eq!(parse_retry_after(" 0 ", now), Some(0));
        assert_eq!(parse_retry_after("99999999999999999999", now), Some(u32::MAX));
        assert_eq!(parse_retry_after("Thu, 26 Nov 2026 10:00:42 GMT", now), Some(42));
        assert_eq!(parse_retry_after("Thu, 26 Nov 2026 09:59:00 GMT", now), Some(0), "a date passed");
        for bad in ["", "-5", "1.5", "soon", "Thu, 26 Nov 2026 10:00:42 CET", "Thu, 31 Nov 2026 10:00:42 GMT"]
        {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn too_many_requests_says_how_long_to_wait() {
        assert_eq!(slow_down(Some(12)), "Slow down — try again in 12 s");
        assert_eq!(slow_down(Some(0)), "Slow down — try again in a moment");
        assert_eq!(slow_down(None), "Slow down — try again in a moment");
    }
}
