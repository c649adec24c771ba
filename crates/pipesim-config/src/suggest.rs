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
    }
}
