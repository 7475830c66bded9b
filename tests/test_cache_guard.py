"""The stale-cache guard: cached kernels compiled from other sources are deleted."""

from pmosim.kernels import _cache


def test_guard_deletes_kernel_caches_when_the_sources_change(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "cache_dir", lambda: tmp_path)
    stale = [tmp_path / "driver.run_span-23.py311.nbi", tmp_path / "driver.run_span-23.py311.1.nbc",
             tmp_path / "accumulate.add_fixed-18.py311.nbi"]
    other = tmp_path / "mymodule.f-3.py311.nbi"     # not a pmosim kernel: left alone
    for path in stale + [other]:
        path.write_bytes(b"x")
    (tmp_path / "pmosim-kernels.sha256").write_text("0" * 64 + "\n")
    assert _cache.guard() is True
    assert not any(p.exists() for p in stale) and other.exists()
    assert (tmp_path / "pmosim-kernels.sha256").read_text().strip() == _cache.sources_digest()
    # the same sources again: nothing to do, new cache files stay
    stale[0].write_bytes(b"x")
    assert _cache.guard() is False
    assert stale[0].exists()


def test_digest_covers_the_sources_kernels_are_built_from(tmp_path, monkeypatch):
    real = _cache._KERNELS
    copy = tmp_path / "pmosim"
    (copy / "kernels" / "_llvm").mkdir(parents=True)
    for rel in ["kernels/driver.py", "kernels/_llvm/simd.py", "layout.py", "distributions.py"]:
        (copy / rel).write_bytes((real.parent / rel).read_bytes())
    monkeypatch.setattr(_cache, "_KERNELS", copy / "kernels")
    before = _cache.sources_digest()
    for rel in ["kernels/driver.py", "kernels/_llvm/simd.py", "layout.py"]:
        path = copy / rel
        path.write_bytes(path.read_bytes() + b"\n# edited\n")
        after = _cache.sources_digest()
        assert after != before, rel
        before = after


def test_guard_survives_an_unwritable_cache(monkeypatch):
    def no_cache():
        raise PermissionError("read-only")
    monkeypatch.setattr(_cache, "cache_dir", no_cache)
    assert _cache.guard() is False
