//! "Did you mean" for near misses, and friendlier serde messages.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_l = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word_l, &c.to_ascii_lowercase()), c))
        .filter(|(score, c)| {
            *score >= 0.82
                || strsim::levenshtein(&word_l, &c.to_ascii_lowercase()) <= 2 && c.len() > 2
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Rewrites serde's "unknown field"/"unknown variant" messages into one sentence that names
/// the near miss and lists what is allowed:
/// `unknown field \`servrs\`, expected one of \`name\`, \`servers\``
/// becomes `unknown key \`servrs\` (did you mean \`servers\`?); known keys: name, servers`.
pub fn explain_serde_message(message: &str) -> String {
    if let Some(range) = integer_range_message(message) {
        return range;
    }
    for (prefix, noun) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let Some((word, tail)) = rest.split_once('`') else {
            continue;
        };
        let known: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        let mut out = format!("unknown {noun} `{word}`");
        if let Some(s) = suggest(word, known.iter().copied()) {
            out.push_str(&format!(" (did you mean `{s}`?)"));
        }
        if known.is_empty() {
            out.push_str("; this table takes no keys here");
        } else {
            out.push_str(&format!("; known {noun}s: {}", known.join(", ")));
        }
        return out;
    }
    message.to_string()
}

/// serde's "invalid value: integer `5000000000`, expected u32" (or "invalid type: integer
/// `…` as i128", for numbers beyond 64 bits) as "5000000000 is out of range: …".
fn integer_range_message(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("invalid value: integer `")
        .or_else(|| message.strip_prefix("invalid type: integer `"))?;
    let (number, tail) = rest.split_once('`')?;
    let expected = tail.rsplit_once("expected ")?.1.trim();
    let range = match expected {
        "u8" => "an integer from 0 to 255".to_string(),
        "u16" => "an integer from 0 to 65535".to_string(),
        "u32" => format!("an integer from 0 to {}", u32::MAX),
        "u64" => format!("an integer from 0 to {}", u64::MAX),
        "usize" => format!("an integer from 0 to {}", usize::MAX),
        "i64" => format!("an integer from {} to {}", i64::MIN, i64::MAX),
        "a nonzero u32" => format!("an integer from 1 to {}", u32::MAX),
        _ => return None,
    };
    Some(format!("{number} is out of range: expected {range}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["name", "servers", "service", "capacity", "route"];
        assert_eq!(suggest("servrs", keys), Some("servers"));
        assert_eq!(suggest("capacty", keys), Some("capacity"));
        assert_eq!(suggest("Service", keys), Some("service"));
        assert_eq!(suggest("zebra", keys), None);
    }

    #[test]
    fn rewrites_unknown_field_messages() {
        let msg = "unknown field `servrs`, expected one of `name`, `servers`, `service`";
        assert_eq!(
            explain_serde_message(msg),
            "unknown key `servrs` (did you mean `servers`?); known keys: name, servers, service"
        );
        let msg = "unknown variant `expo`, expected one of `const`, `exp`";
        assert_eq!(
            explain_serde_message(msg),
            "unknown value `expo` (did you mean `exp`?); known values: const, exp"
        );
        assert_eq!(explain_serde_message("other"), "other");
        assert_eq!(
            explain_serde_message("invalid value: integer `5000000000`, expected u32"),
            "5000000000 is out of range: expected an integer from 0 to 4294967295"
        );
        assert_eq!(
            explain_serde_message(
                "invalid type: integer `99999999999999999999` as i128, expected u32"
            ),
            "99999999999999999999 is out of range: expected an integer from 0 to 4294967295"
        );
        assert_eq!(
            explain_serde_message("invalid value: integer `-1`, expected u64"),
            "-1 is out of range: expected an integer from 0 to 18446744073709551615"
        );
    }
}
