// embed_migrations! does not notice a new migration directory on its own.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
