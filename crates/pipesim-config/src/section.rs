//! Sections of a model table: the tables (`[model.pool]`) and values (`consumer = …`) a
//! design's `Config` is made of, each declared once, by name, with [`sections!`](crate::sections).

use crate::{ConfigError, Loader, ParamDoc};

/// A part of a model table that documents and checks itself under the name a design gives it.
///
/// Implemented by the components' tables (`PoolParams`, `PostgresParams`, …) and by a design's
/// own tables; [`sections!`](crate::sections) calls it with the declared name.
pub trait Section {
    /// What a successful check gives the design: the table with its defaults filled in, a
    /// component's resolved spec, or `()`.
    type Valid;
    /// What the design decides about the section that a scenario does not write: `()` for
    /// most; a producer fleet's default affinity.
    type Choice;

    /// The rows of `pipesim models` for the section, named under `name` (`pool.size`).
    fn docs(name: &str, choice: Self::Choice) -> Vec<ParamDoc>;

    /// Checks the section; error paths are relative to it (`size`, which the accessor that
    /// [`sections!`](crate::sections) generates turns into `pool.size`).
    fn check(&self, loader: &dyn Loader, choice: Self::Choice) -> Result<Self::Valid, ConfigError>;
}

/// Declares a design's `Config` struct from its sections, with `section_docs()` and a checked
/// accessor per [`Section`]:
///
/// ```text
/// pipesim_config::sections! {
///     /// The model table as written.
///     #[derive(Default)]
///     pub struct ShardedConfig {
///         producers: FleetParams [Affinity::Key],
///         network: LinkParams,
///         switch: Option<SwitchParams> => SwitchParams::docs,
///     }
/// }
/// ```
///
/// The struct derives `serde::Deserialize` with unknown keys rejected and every section
/// `#[serde(default)]`, in the order written (the order of "known keys" in errors). A section
/// is one of:
///
/// - `name: Type`, a [`Section`] whose [`Choice`](Section::Choice) is `()`;
/// - `name: Type [choice]`, a [`Section`] with the design's choice (a fleet's default affinity);
/// - `name: Type => docs_fn`, documented by `docs_fn(name)` and checked by the design itself: a
///   table whose checks interleave with other tables', or a value such as `consumer` that only
///   other tables' checks look at.
///
/// Generated: `ShardedConfig::section_docs()`, every section's [`ParamDoc`] rows under its
/// name in the order written (what `ModelKind::params_doc` returns, or starts from); and per
/// [`Section`] an accessor, `config.network(loader)`: [`Section::check`] with the error seen
/// from the model table (`network.drop`, not `drop`), which the design calls in the order its
/// checks run, its own checks between them. They are private to the module that declares the
/// struct, where the design's `params_doc` and `validate` live. The invoking crate needs
/// `serde` among its dependencies.
#[macro_export]
macro_rules! sections {
    (
        $(#[$meta:meta])*
        $vis:vis struct $config:ident {
            $( $name:ident : $ty:ty $( [$choice:expr] )? $( => $docs:path )? ),+ $(,)?
        }
    ) => {
        #[derive(::serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        $(#[$meta])*
        $vis struct $config {
            $( #[serde(default)] $name: $ty, )+
        }

        impl $config {
            /// Every parameter of the model table, section by section in declaration order,
            /// each under the section's name.
            fn section_docs() -> ::std::vec::Vec<$crate::ParamDoc> {
                let mut all = ::std::vec::Vec::new();
                $( all.extend($crate::__section_docs!($name : $ty $([$choice])? $(=> $docs)?)); )+
                all
            }

            $( $crate::__section_check!($name : $ty $([$choice])? $(=> $docs)?); )+
        }
    };
}

/// One section's rows, for [`sections!`](crate::sections).
#[doc(hidden)]
#[macro_export]
macro_rules! __section_docs {
    ($name:ident : $ty:ty => $docs:path) => {
        $docs(::core::stringify!($name))
    };
    ($name:ident : $ty:ty $([$choice:expr])?) => {
        <$ty as $crate::Section>::docs(
            ::core::stringify!($name),
            $crate::__section_choice!($($choice)?),
        )
    };
}

/// One section's checked accessor (none for a section the design checks), for
/// [`sections!`](crate::sections).
#[doc(hidden)]
#[macro_export]
macro_rules! __section_check {
    ($name:ident : $ty:ty => $docs:path) => {};
    ($name:ident : $ty:ty $([$choice:expr])?) => {
        #[doc = ::core::concat!(
            "`", ::core::stringify!($name), "` checked; error paths are relative to the model table."
        )]
        fn $name(
            &self,
            loader: &dyn $crate::Loader,
        ) -> ::core::result::Result<<$ty as $crate::Section>::Valid, $crate::ConfigError> {
            $crate::Section::check(&self.$name, loader, $crate::__section_choice!($($choice)?))
                .map_err(|e| e.within(::core::stringify!($name)))
        }
    };
}

/// A section's choice, `()` when the declaration gives none.
#[doc(hidden)]
#[macro_export]
macro_rules! __section_choice {
    () => {
        ()
    };
    ($choice:expr) => {
        $choice
    };
}

#[cfg(test)]
mod tests {
    use crate::{ConfigError, Loader, ParamDoc, Section};
    use serde::Deserialize;

    /// A table with one count that must be positive, and a choice of its default.
    #[derive(Default, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Count {
        n: Option<u32>,
    }

    impl Section for Count {
        type Valid = u32;
        type Choice = u32;
        fn docs(name: &str, default: u32) -> Vec<ParamDoc> {
            vec![ParamDoc::new("n", "integer >= 1", default.to_string(), "a count").under(name)]
        }
        fn check(&self, _: &dyn Loader, default: u32) -> Result<u32, ConfigError> {
            match self.n.unwrap_or(default) {
                0 => Err(ConfigError::new("n", "must be at least 1")),
                n => Ok(n),
            }
        }
    }

    #[derive(Default, Deserialize)]
    struct Flag(bool);

    fn flag_docs(name: &str) -> Vec<ParamDoc> {
        vec![ParamDoc::new(name, "boolean", "false", "a flag")]
    }

    crate::sections! {
        /// Two sections checked by the kit and one by hand.
        #[derive(Default)]
        struct Demo {
            first: Count [3],
            flag: Flag => flag_docs,
            second: Count [0],
        }
    }

    struct NoFiles;
    impl Loader for NoFiles {
        fn read_text(&self, path: &str) -> Result<String, String> {
            Err(format!("no file {path}"))
        }
    }

    #[test]
    fn docs_follow_the_declaration_under_each_name() {
        let names: Vec<_> = Demo::section_docs().into_iter().map(|d| (d.name, d.default)).collect();
        let expect = [("first.n", "3"), ("flag", "false"), ("second.n", "0")];
        let expect: Vec<_> =
            expect.iter().map(|(n, d)| ((*n).to_string(), Some((*d).to_string()))).collect();
        assert_eq!(names, expect);
    }

    #[test]
    fn accessors_check_with_the_choice_and_name_the_section() {
        let demo: Demo = toml::from_str("flag = true\n[second]\nn = 2").unwrap();
        assert!(demo.flag.0);
        assert_eq!(demo.first(&NoFiles), Ok(3));
        assert_eq!(demo.second(&NoFiles), Ok(2));
        assert_eq!(Demo::default().second(&NoFiles).unwrap_err().path, "second.n");
        let unknown = toml::from_str::<Demo>("third = 1").err().unwrap().to_string();
        assert!(unknown.contains("`first`, `flag`, `second`"), "{unknown}");
    }
}
