//! The user's own `pipesim`: the standard command line with this crate's designs added.

fn main() {
    let mut registry = pipesim_cli::default_registry();
    my_pipeline::register(&mut registry).expect("this crate's kind names are new and valid");
    let code = pipesim_cli::main_with_registry(std::env::args_os(), &registry);
    std::process::exit(i32::from(code));
}
