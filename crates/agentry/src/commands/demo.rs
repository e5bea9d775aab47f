pub fn run(_dir: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
