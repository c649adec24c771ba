//! Bad parameters of the Postgres and Redis designs (`baseline`, `sharded`, `lua_ordered`):
//! each is refused before anything runs, with exit code 2 and an error that names the file,
//! line and column, the field's path, and the model.

use crate::support::*;

const HEADER: &str = r#"name = "t"
duration = "10s"
[workload]
arrivals = { process = "poisson", rate = "1k/s" }
"#;

/// Runs `pipesim validate` and `pipesim run` on the header plus `models`: both are rejected
/// ([`assert_rejected_in`]) with every `expected` substring on stderr, and write nothing.
fn check(name: &str, models: &str, expected: &[&str]) {
    let tmp = scratch(&format!("{HEADER}{models}"));
    for command in ["validate", "run"] {
        let mut argv = vec![command, "s.toml"];
        if command == "run" {
            argv.extend(["--out", "out", "--quiet"]);
        }
        assert_rejected_in(name, tmp.path(), &argv, expected);
    }
}

#[test]
fn zero_shards() {
    check(
        "sharded shards 0",
        "[[model]]\nname = \"s\"\nkind = \"sharded\"\n[model.router]\nshards = 0\n",
        &["s.toml:9:10: model[0].router.shards: must be at least 1 (model \"s\", kind sharded)"],
    );
    check(
        "redis shards 0",
        "[[model]]\nname = \"l\"\nkind = \"lua_ordered\"\n[model.redis]\nshards = 0\n",
        &["s.toml:9:10: model[0].redis.shards: must be at least 1 (model \"l\", kind lua_ordered)"],
    );
    check(
        "redis shards beyond the slots",
        "[[model]]\nname = \"l\"\nkind = \"lua_ordered\"\n[model.redis]\nshards = 20000\n",
        &["model[0].redis.shards: at most 16384", "model \"l\""],
    );
}

#[test]
fn a_pool_of_zero() {
    check(
        "pool 0",
        "[[model]]\nname = \"b\"\nkind = \"baseline\"\n[model.pool]\nsize = 0\n",
        &["s.toml:9:8: model[0].pool.size: must be at least 1", "(model \"b\", kind baseline)"],
    );
}

#[test]
fn a_negative_cost() {
    check(
        "negative insert cost",
        "[[model]]\nname = \"b\"\nkind = \"baseline\"\n[model.store]\ninsert = \"-5us\"\n",
        &["s.toml:9:10: model[0].store.insert: a duration cannot be negative", "model \"b\""],
    );
    check(
        "negative script cost",
        "[[model]]\nname = \"l\"\nkind = \"lua_ordered\"\n[model.redis]\nscript = { dist = \"exp\", mean = \"-120us\" }\n",
        &["model[0].redis.script", "cannot be negative", "model \"l\""],
    );
}

#[test]
fn zero_or_out_of_range_values() {
    check(
        "lru capacity 0",
        "[[model]]\nname = \"l\"\nkind = \"lua_ordered\"\n[model.lru]\ncapacity = 0\n",
        &["model[0].lru.capacity: must be at least 1", "model \"l\""],
    );
    check(
        "writeback interval 0",
        "[[model]]\nname = \"l\"\nkind = \"lua_ordered\"\n[model.writeback]\ninterval = \"0s\"\n",
        &["model[0].writeback.interval: must be greater than zero"],
    );
    check(
        "a NaN drop probability",
        "[[model]]\nname = \"b\"\nkind = \"baseline\"\n[model.network]\ndrop = nan\n",
        &["s.toml:9:8: model[0].network.drop: must be a probability between 0 and 1, found NaN"],
    );
    check(
        "a drop probability above 1",
        "[[model]]\nname = \"b\"\nkind = \"baseline\"\n[model.network]\ndrop = 1.5\n",
        &["model[0].network.drop: must be a probability between 0 and 1, found 1.5"],
    );
    check(
        "zero cores",
        "[[model]]\nname = \"b\"\nkind = \"baseline\"\n[model.store]\ncores = 0\n",
        &["model[0].store.cores: must be at least 1"],
    );
    check(
        "an unknown commit mode",
        "[[model]]\nname = \"b\"\nkind = \"baseline\"\n[model.store]\nsynchronous_commit = \"sometimes\"\n",
        &[
            "model[0].store.synchronous_commit: unknown value `sometimes`",
            "off, local, remote_write, on, remote_apply",
        ],
    );
    check(
        "a switch after the end",
        "[[model]]\nname = \"s\"\nkind = \"sharded\"\n[model.switch]\nat = \"20s\"\n",
        &["model[0].switch.at: 20s is not before the end of arrivals"],
    );
    check(
        "zero instances",
        "[[model]]\nname = \"b\"\nkind = \"baseline\"\n[model.producers]\ninstances = 0\n",
        &["model[0].producers.instances: must be at least 1"],
    );
}

#[test]
fn a_misspelt_component_key() {
    check(
        "store key typo",
        "[[model]]\nname = \"b\"\nkind = \"baseline\"\n[model.store]\nsynchronous_comit = \"on\"\n",
        &["model[0].store.synchronous_comit: unknown key", "did you mean `synchronous_commit`?"],
    );
}

#[test]
fn a_fault_role_the_model_lacks() {
    check(
        "lua has no log",
        "[[model]]\nname = \"l\"\nkind = \"lua_ordered\"\n[[fault]]\nkind = \"crash\"\ntarget = \"log\"\nat = \"1s\"\nduration = \"1s\"\n",
        &[
            "fault[0].target: model \"l\" (lua_ordered) has no role `log`; its roles: store, network",
        ],
    );
}

#[test]
fn an_unknown_kind_lists_the_known_ones() {
    check(
        "kind",
        "[[model]]\nname = \"x\"\nkind = \"lua\"\n",
        &[
            "model[0].kind: unknown model kind `lua`",
            "baseline",
            "sharded",
            "lua_ordered",
            "cached",
            "stations",
        ],
    );
}
