//! Preconditions of a write (RFC 9110 `If-Match`): the versions of a record that the client
//! read, and expects still to be current. A batch gives one per id (`versions={"7": "…"}`).

/// What `If-Match` asks: any current version (`*`), or one of these strong tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    Any,
    OneOf(Vec<String>),
    /// A header that is not `*` nor a list of entity tags (why, in words): it names no
    /// version, so no record satisfies it (RFC 9110's condition is false: 412, never a write).
    Malformed(String),
}

impl Precondition {
    /// Reads an `If-Match` header: `*`, or a comma-separated list of entity tags. A weak tag
    /// (`W/"…"`) is kept, and never matches: writes compare strongly. Anything else asks for a
    /// version no record has: refusing it as malformed (400) would answer a request about what
    /// is stored with one about its form, which the document cannot rule out.
    pub fn read(header: &str) -> Precondition {
        Precondition::parse(header).unwrap_or_else(Precondition::Malformed)
    }

    fn parse(header: &str) -> Result<Precondition, String> {
        let header = header.trim();
        if header == "*" {
            return Ok(Precondition::Any);
        }
        let mut tags = Vec::new();
        let mut rest = header;
        while !rest.is_empty() {
            let weak = rest.starts_with("W/");
            let start = if weak { 2 } else { 0 };
            let tail = &rest[start..];
            let end = tail
                .strip_prefix('"')
                .and_then(|t| t.find('"'))
                .ok_or_else(|| {
                    format!("If-Match must be * or quoted entity tags (\"…\"), not {header}")
                })?;
            let tag = &tail[..end + 2];
            tags.push(if weak {
                format!("W/{tag}")
            } else {
                tag.to_owned()
            });
            rest = tail[end + 2..].trim_start();
            match rest.strip_prefix(',') {
                Some(more) => rest = more.trim_start(),
                None if rest.is_empty() => {}
                None => {
                    return Err(format!(
                        "If-Match must be * or quoted entity tags separated by commas, not {header}"
                    ));
                }
            }
        }
        if tags.is_empty() {
            return Err("If-Match is empty".into());
        }
        Ok(Precondition::OneOf(tags))
    }

    /// A tag given without its quotes (`abc`, in a JSON list of versions) or with them.
    pub fn tag(text: &str) -> Precondition {
        let text = text.trim();
        if text == "*" {
            return Precondition::Any;
        }
        if text.starts_with('"') || text.starts_with("W/") {
            return Precondition::OneOf(vec![text.to_owned()]);
        }
        Precondition::OneOf(vec![format!("\"{text}\"")])
    }

    /// Whether a record whose tag is `current` satisfies it (strong comparison).
    pub fn matches(&self, current: &str) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::OneOf(tags) => tags.iter().any(|tag| tag == current),
            Precondition::Malformed(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_headers() {
        assert_eq!(Precondition::parse("*"), Ok(Precondition::Any));
        assert_eq!(
            Precondition::parse("\"a\", W/\"b\",\"c\""),
            Ok(Precondition::OneOf(vec![
                "\"a\"".into(),
                "W/\"b\"".into(),
                "\"c\"".into()
            ]))
        );
        assert!(Precondition::parse("abc").is_err());
        assert!(Precondition::parse("\"a\" \"b\"").is_err());
        assert!(Precondition::parse("\"a").is_err());
        assert!(Precondition::parse("").is_err());
        let malformed = Precondition::read("0");
        assert_eq!(
            malformed,
            Precondition::Malformed(
                "If-Match must be * or quoted entity tags (\"…\"), not 0".into()
            )
        );
        assert!(
            !malformed.matches("\"0\""),
            "a malformed header matches no version"
        );
        let weak = Precondition::parse("W/\"x\"").unwrap();
        assert!(!weak.matches("\"x\""), "a weak tag never matches strongly");
        assert!(Precondition::parse("\"x\"").unwrap().matches("\"x\""));
        assert!(Precondition::tag("x").matches("\"x\""));
        assert!(Precondition::tag("\"x\"").matches("\"x\""));
    }
}
