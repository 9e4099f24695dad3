// Lets the test suite mark its PostgreSQL and Redis tests as ignored (with a
// reason that `cargo test` prints) when no such server is configured.
fn main() {
    println!("cargo:rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo:rustc-check-cfg=cfg(redis_tests)");
    println!("cargo:rerun-if-env-changed=PERFORMCHAT_TEST_POSTGRES_URL");
    println!("cargo:rerun-if-env-changed=PERFORMCHAT_TEST_REDIS_URL");
    // New migration files must rebuild the binary that embeds them.
    println!("cargo:rerun-if-changed=migrations");
    if std::env::var("PERFORMCHAT_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=postgres_tests");
    }
    if std::env::var("PERFORMCHAT_TEST_REDIS_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=redis_tests");
    }
}
