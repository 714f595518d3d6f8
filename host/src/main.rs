fn main() -> std::process::ExitCode {
    chanhost::cli::main()
}
