//! Cursor pagination shared by every list: a checked `?limit`, cursors of
//! the form `<ms>.<id>` (newest first), and cutting the one extra row a
//! query fetches to know whether another page follows.

use super::{ApiError, ApiResult};

/// `?limit`, `default` when absent, between 1 and `max`.
pub fn limit(asked: Option<u32>, default: u32, max: u32) -> ApiResult<u32> {
    let limit = asked.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid("?limit", format!("between 1 and {max}")))
    }
}

/// A `(time, id)` cursor a list gave out.
pub fn decode_time_cursor(cursor: Option<&str>) -> ApiResult<Option<(i64, String)>> {
    cursor
        .map(|cursor| {
            cursor
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                .ok_or_else(|| ApiError::invalid("?cursor", "not a cursor this API gave out"))
        })
        .transpose()
}

pub fn time_cursor(at: i64, id: &str) -> String {
    format!("{at}.{id}")
}

/// Keeps the first `limit` of `items` (fetched with one extra) and returns
/// the cursor of the last kept one if more follow.
pub fn cut<T>(items: &mut Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Option<String> {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(cursor_of)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_named() {
        let cursor = time_cursor(1700, "ORD-01.x");
        assert_eq!(
            decode_time_cursor(Some(&cursor)).unwrap(),
            Some((1700, "ORD-01.x".to_string()))
        );
        assert!(decode_time_cursor(Some("nonsense")).is_err());
        assert!(limit(Some(0), 50, 500).is_err());
        let mut items = vec![1, 2, 3];
        assert_eq!(cut(&mut items, 2, |i| i.to_string()), Some("2".to_string()));
        assert_eq!(items, vec![1, 2]);
    }
}
