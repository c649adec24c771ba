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
    if let Some(typed) = invalid_type_message(message) {
        return typed;
    }
    // Scenario files have keys, not fields.
    if let Some(rest) = message.strip_prefix("missing field `") {
        return format!("missing key `{rest}");
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
    let range = integer_range(expected)?;
    Some(format!("{number} is out of range: expected {range}"))
}

/// serde's "invalid type: string \"2\", expected u32" (which names Rust types, and TOML integers
/// beyond 64 bits as "i128") in the words of a scenario file: "expected an integer from 0 to
/// 4294967295, found the string \"2\" (write numbers without quotes)".
fn invalid_type_message(message: &str) -> Option<String> {
    let rest = message.strip_prefix("invalid type: ")?;
    let (found, expected) = rest.rsplit_once(", expected ")?;
    if let Some(number) = found.strip_prefix("integer `").and_then(|r| r.strip_suffix("` as i128"))
    {
        return Some(format!(
            "{number} is out of range: TOML integers go from {} to {}",
            i64::MIN,
            i64::MAX
        ));
    }
    let numeric = matches!(
        expected,
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "f32" | "f64"
    );
    let expected = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i64" => integer_range(expected)?,
        "i8" | "i16" | "i32" => "an integer".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        "a sequence" | "sequence" => "an array".to_string(),
        "a map" | "map" => "a table".to_string(),
        e if e.starts_with("struct ") => "a table".to_string(),
        e => e.to_string(),
    };
    let (found, quoted_number) =
        if let Some(s) = found.strip_prefix("string \"").and_then(|s| s.strip_suffix('"')) {
            (format!("the string \"{s}\""), s.trim().parse::<f64>().is_ok())
        } else if let Some(v) = found.strip_prefix("integer `") {
            (format!("the integer {}", v.trim_end_matches('`')), false)
        } else if let Some(v) = found.strip_prefix("floating point `") {
            (format!("the number {}", v.trim_end_matches('`')), false)
        } else if let Some(v) = found.strip_prefix("boolean `") {
            (format!("the boolean {}", v.trim_end_matches('`')), false)
        } else {
            let f = match found {
                "map" => "a table",
                "sequence" => "an array",
                other => other,
            };
            (f.to_string(), false)
        };
    let mut out = format!("expected {expected}, found {found}");
    if numeric && quoted_number {
        out.push_str(" (write numbers without quotes)");
    }
    Some(out)
}

/// The range of a Rust integer type, in words.
fn integer_range(ty: &str) -> Option<String> {
    Some(match ty {
        "u8" => "an integer from 0 to 255".to_string(),
        "u16" => "an integer from 0 to 65535".to_string(),
        "u32" => format!("an integer from 0 to {}", u32::MAX),
        "u64" => format!("an integer from 0 to {}", u64::MAX),
        "usize" => format!("an integer from 0 to {}", usize::MAX),
        "i64" => format!("an integer from {} to {}", i64::MIN, i64::MAX),
        "a nonzero u32" => format!("an integer from 1 to {}", u32::MAX),
        _ => return None,
    })
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
        assert_eq!(explain_serde_message("missing field `rate`"), "missing key `rate`");
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

    #[test]
    fn rewrites_invalid_type_messages_without_rust_type_names() {
        let cases = [
            (
                "invalid type: string \"2\", expected u32",
                "expected an integer from 0 to 4294967295, found the string \"2\" (write numbers without quotes)",
            ),
            (
                "invalid type: string \"many\", expected u32",
                "expected an integer from 0 to 4294967295, found the string \"many\"",
            ),
            (
                "invalid type: floating point `1.5`, expected u32",
                "expected an integer from 0 to 4294967295, found the number 1.5",
            ),
            (
                "invalid type: string \"1.1\", expected f64",
                "expected a number, found the string \"1.1\" (write numbers without quotes)",
            ),
            (
                "invalid type: integer `5`, expected a string",
                "expected a string, found the integer 5",
            ),
            (
                "invalid type: integer `5`, expected struct RawArrivals",
                "expected a table, found the integer 5",
            ),
            ("invalid type: map, expected a sequence", "expected an array, found a table"),
            (
                "invalid type: integer `99999999999999999999` as i128, expected f64",
                "99999999999999999999 is out of range: TOML integers go from -9223372036854775808 to 9223372036854775807",
            ),
            (
                "invalid type: integer `99999999999999999999` as i128, expected any value",
                "99999999999999999999 is out of range: TOML integers go from -9223372036854775808 to 9223372036854775807",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(explain_serde_message(raw), want, "{raw}");
        }
    }
}
