/// Order evaluation allocates many short-lived strings and vectors (plugin
/// inputs and outputs, traces); mimalloc serves them far faster than
/// glibc's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    chanhost::cli::main()
}
