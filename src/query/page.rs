//! Paging in the three dialects: ng-admin's `_page`/`_perPage` (json-server's `_page`/
//! `_limit`), simple-rest's `range=[0,24]` or `Range: posts=0-24` header, json-server's
//! `_start`/`_end`; none of them means every row, up to `max_rows`.

use super::params::{Params, Purpose};
use super::{Error, Limits, Page};
use crate::schema::Entity;

pub(super) fn parse(
    entity: &Entity,
    params: &mut Params,
    range_header: Option<&str>,
    limits: Limits,
) -> Result<Page, Error> {
    let mut taken = params.purpose(Purpose::Page)?;
    let page = taken.get("_page");
    let per_page = taken.get("_perPage");
    let limit = taken.get("_limit");
    let range = taken.get("range");
    let start = taken.get("_start");
    let end = taken.get("_end");
    // A larger page is capped; Content-Range then tells the client what it got.
    let window = |offset: u64, limit: u64| Page::Window {
        offset,
        limit: limit.min(limits.max_per_page),
    };
    // A window that ends before it starts holds no row (as a slice of JavaScript's): the
    // document cannot say that one bound must not pass the other.
    if let Some(text) = range {
        let (first, last) = parse_range_list(&text)?;
        return Ok(window(first, (last + 1).saturating_sub(first)));
    }
    if start.is_some() || end.is_some() {
        let first = whole("_start", start, 0)?.unwrap_or(0);
        return match whole("_end", end, 0)? {
            Some(last) => Ok(window(first, last.saturating_sub(first))),
            None => Ok(window(first, entity.per_page)),
        };
    }
    if page.is_none() && per_page.is_none() && limit.is_none() {
        // react-admin simple-rest may send the window as a header only. One that is not
        // `unit=first-last` is ignored, as RFC 9110 lets a server do with any Range.
        return match range_header.and_then(parse_range_header) {
            Some((first, last)) => Ok(window(first, (last + 1).saturating_sub(first))),
            None => Ok(Page::All {
                max_rows: limits.max_rows,
            }),
        };
    }
    let number = whole("_page", page, 1)?.unwrap_or(1);
    // The bound the document states, whatever the page size: (page - 1) × the largest page
    // must be an offset the databases take.
    if number > i64::MAX as u64 / limits.max_per_page.max(1) {
        return Err(Error::BadParameter {
            name: "_page".into(),
            message: format!(
                "is too large (at most {})",
                i64::MAX as u64 / limits.max_per_page.max(1)
            ),
        });
    }
    let size = match (whole("_perPage", per_page, 1)?, whole("_limit", limit, 1)?) {
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => entity.per_page,
    }
    .min(limits.max_per_page);
    let offset = (number - 1)
        .checked_mul(size)
        .ok_or_else(|| Error::BadParameter {
            name: "_page".into(),
            message: "is too large".into(),
        })?;
    Ok(Page::Window {
        limit: size,
        offset,
    })
}

/// A whole number of at least `min`.
fn whole(name: &str, text: Option<String>, min: u64) -> Result<Option<u64>, Error> {
    text.map(|t| match t.trim().parse::<u64>() {
        Ok(n) if n >= min && n <= i64::MAX as u64 => Ok(n),
        _ => Err(Error::BadParameter {
            name: name.into(),
            message: format!("must be a whole number from {min}, not \"{t}\""),
        }),
    })
    .transpose()
}

/// `range=[0,24]`: first and last row, both included.
fn parse_range_list(text: &str) -> Result<(u64, u64), Error> {
    let bad = || Error::BadParameter {
        name: "range".into(),
        message: format!("must be [first, last], two whole numbers, not \"{text}\""),
    };
    let bounds: Vec<u64> = serde_json::from_str(text).map_err(|_| bad())?;
    match bounds[..] {
        [first, last] if first.max(last) <= i64::MAX as u64 => Ok((first, last)),
        _ => Err(bad()),
    }
}

/// `Range: posts=0-24`: first and last row, both included.
fn parse_range_header(header: &str) -> Option<(u64, u64)> {
    let (_unit, span) = header.split_once('=')?;
    let (first, last) = span.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    (first.max(last) <= i64::MAX as u64).then_some((first, last))
}
