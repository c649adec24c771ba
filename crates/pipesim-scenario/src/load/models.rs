//! The `[[model]]` tables: each one's name and kind checked, then its parameters handed to
//! the registry; and `--models`, which keeps some of them.

use super::diagnostics::{key_span_of, span_of};
use super::{FileLoader, Loading, check_name};
use crate::error::ScenarioError;
use crate::path::{FieldPath, Segment};
use pipesim_config::{ConfigError, limits, suggest};
use pipesim_models::{BuildEnv, ModelSpec, ModelTables, ParseModelError};
use pipesim_workload::WorkloadSpec;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

impl Loading<'_> {
    pub(super) fn models(
        &self,
        lookup: &DeTable<'_>,
        loader: &FileLoader,
        workload: &WorkloadSpec,
    ) -> Result<Vec<ModelSpec>, ScenarioError> {
        let items: Vec<Spanned<DeValue<'_>>> = match lookup.get("model").map(|v| v.get_ref()) {
            Some(DeValue::Array(items)) => items.iter().cloned().collect(),
            _ => Vec::new(),
        };
        if items.is_empty() {
            return Err(ScenarioError::file(
                self.path.to_path_buf(),
                "has no model: add at least one [[model]] with a `name` and a `kind` (see `pipesim models`)",
            ));
        }
        if let Err(e) = limits::at_most("", items.len() as u64, &limits::MODELS) {
            return Err(self.error_at(
                lookup,
                &FieldPath::parse("model").unwrap_or_default(),
                e.message,
            ));
        }
        let env = BuildEnv { loader, workload };
        let mut out: Vec<ModelSpec> = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let spec = self.model(lookup, &env, i, item, &out)?;
            out.push(spec);
        }
        Ok(out)
    }

    /// The `i`-th `[[model]]` table; `earlier` are the ones before it (names must be unique).
    fn model(
        &self,
        lookup: &DeTable<'_>,
        env: &BuildEnv<'_>,
        i: usize,
        item: Spanned<DeValue<'_>>,
        earlier: &[ModelSpec],
    ) -> Result<ModelSpec, ScenarioError> {
        let base = FieldPath(vec![Segment::Key("model".into()), Segment::Index(i)]);
        let span = item.span();
        let DeValue::Table(mut table) = item.into_inner() else {
            return Err(self.error_at(lookup, &base, "must be a table".to_string()));
        };
        let (name, kind) = self.name_and_kind(lookup, &base, i, &mut table, earlier)?;
        self.parse_model(lookup, env, &base, &name, &kind, Spanned::new(span, table))
    }

    /// Takes a model table's `name` and `kind` out of it, checked.
    fn name_and_kind(
        &self,
        lookup: &DeTable<'_>,
        base: &FieldPath,
        i: usize,
        table: &mut DeTable<'_>,
        earlier: &[ModelSpec],
    ) -> Result<(String, String), ScenarioError> {
        let at = |field: &str, msg: String| {
            self.error_at(lookup, &base.join(&FieldPath(vec![Segment::Key(field.into())])), msg)
        };
        let name = match table.remove("name").map(Spanned::into_inner) {
            Some(DeValue::String(s)) => s.into_owned(),
            Some(_) => return Err(at("name", "must be a string".to_string())),
            None => return Err(self.error_at(lookup, base, "needs a `name`".to_string())),
        };
        check_name(&name).map_err(|m| at("name", m))?;
        if let Some(first) = earlier.iter().position(|m| m.name == name) {
            return Err(at(
                "name",
                format!(
                    "two models are named \"{name}\" (model[{first}] and model[{i}]); names must be unique"
                ),
            ));
        }
        let kind = match table.remove("kind").map(Spanned::into_inner) {
            Some(DeValue::String(s)) => s.into_owned(),
            Some(_) => return Err(at("kind", "must be a string".to_string())),
            None => {
                return Err(self.error_at(
                    lookup,
                    base,
                    format!(
                        "model \"{name}\" needs a `kind`, one of: {}",
                        self.kind_names().join(", ")
                    ),
                ));
            }
        };
        Ok((name, kind))
    }

    /// Hands the rest of a model table to the registry, its backend's keys apart, and locates
    /// what the registry rejects.
    fn parse_model(
        &self,
        lookup: &DeTable<'_>,
        env: &BuildEnv<'_>,
        base: &FieldPath,
        name: &str,
        kind: &str,
        table: Spanned<DeTable<'_>>,
    ) -> Result<ModelSpec, ScenarioError> {
        let span = table.span();
        let mut table = table.into_inner();
        // The backend's keys (the wire backend's `wire`, `network`, ...) go to it apart.
        let mut harness = DeTable::new();
        for key in self.opts.registry.harness_keys(kind).unwrap_or_default() {
            if let Some((k, v)) = table.remove_entry(*key) {
                harness.insert(k, v);
            }
        }
        let (mut track, mut harness_track) =
            (serde_path_to_error::Track::new(), serde_path_to_error::Track::new());
        let de = serde_path_to_error::Deserializer::new(
            ValueDeserializer::from(Spanned::new(span.clone(), DeValue::Table(table))),
            &mut track,
        );
        let harness_de = serde_path_to_error::Deserializer::new(
            ValueDeserializer::from(Spanned::new(span, DeValue::Table(harness))),
            &mut harness_track,
        );
        let mut de = <dyn erased_serde::Deserializer>::erase(de);
        let mut harness_de = <dyn erased_serde::Deserializer>::erase(harness_de);
        let tables = ModelTables { design: &mut de, harness: &mut harness_de };
        match self.opts.registry.parse_model(name, kind, tables, env) {
            Ok(spec) => Ok(spec),
            Err(ParseModelError::UnknownKind(k)) => {
                let names = self.kind_names();
                let mut msg = format!("unknown model kind `{k}`");
                if let Some(s) = suggest(&k, names.iter().copied()) {
                    msg.push_str(&format!(" (did you mean `{s}`?)"));
                }
                msg.push_str(&format!("; known kinds: {}", names.join(", ")));
                Err(self.error_at(
                    lookup,
                    &base.join(&FieldPath(vec![Segment::Key("kind".into())])),
                    msg,
                ))
            }
            // Parameter errors name the model as well as the field, since `model[1]` alone
            // makes the reader count tables.
            Err(ParseModelError::Deserialize { harness, error: e }) => {
                drop((de, harness_de));
                let tracked = if harness { harness_track.path() } else { track.path() };
                let inner = FieldPath::from_serde(&tracked.to_string());
                let path = base.join(&inner);
                // toml appends "in `key`" lines for the enclosing tables; the path says that.
                let message = e.to_string();
                let message = message.lines().next().unwrap_or_default();
                let span = if message.starts_with("unknown field") {
                    key_span_of(lookup, &path)
                } else {
                    span_of(lookup, &path)
                };
                let mut err = self.message_error(lookup, &path, span, message);
                err.message.push_str(&format!(" (model \"{name}\", kind {kind})"));
                Err(err)
            }
            Err(ParseModelError::Invalid(ConfigError { path, message })) => {
                let inner = FieldPath::parse(&path).unwrap_or_default();
                let message = format!("{message} (model \"{name}\", kind {kind})");
                Err(self.error_at(lookup, &base.join(&inner), message))
            }
        }
    }

    fn kind_names(&self) -> Vec<&'static str> {
        self.opts.registry.names()
    }
}

pub(super) fn select(models: Vec<ModelSpec>, only: &[String]) -> Result<Vec<ModelSpec>, String> {
    let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
    for want in only {
        if !names.contains(want) {
            let mut msg = format!("no model named \"{want}\"");
            if let Some(s) = suggest(want, names.iter().map(String::as_str)) {
                msg.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            msg.push_str(&format!("; models: {}", names.join(", ")));
            return Err(msg);
        }
    }
    Ok(models.into_iter().filter(|m| only.contains(&m.name)).collect())
}
