"""Verifying many entries: in worker processes, and reusing the record of an identical verification."""

from __future__ import annotations

import dataclasses
import json

import pytest

from matref import cli
from matref._catalogue import Entry, load_catalogue
from matref._verify import (CHECKED_FIELDS, EntryResult, VerdictStore, code_digest, verification_key,
                            verify_entries, verify_entry)

CATALOGUE = load_catalogue()
# a spread of families, an erratum and a pitfall among them (each with its wrong form)
SAMPLE = [*CATALOGUE.entries[::97], next(e for e in CATALOGUE.entries if e.kind == "erratum"),
          next(e for e in CATALOGUE.entries if e.kind == "pitfall")]
NOT_KEYED = ("file", "line", "_forms")  # where an entry sits, and a memo of its parsed forms


def _same(a: EntryResult, b: EntryResult) -> bool:
    """Same verdicts (every field, the largest error included) and snippet errors; time aside."""
    return {**a.record(), "seconds": 0} == {**b.record(), "seconds": 0}


def _changed(entry: Entry, name: str) -> Entry:
    value = getattr(entry, name)
    new = (*value, "x") if isinstance(value, tuple) else ("edited " + value if isinstance(value, str) else "x")
    return dataclasses.replace(entry, **{name: new})


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Entry) if f.name not in NOT_KEYED])
def test_a_field_changes_the_check_key_exactly_when_a_check_reads_it_and_every_snippet_key(name):
    e = CATALOGUE.get("trace-transpose")
    edited = _changed(e, name)
    assert (verification_key(edited) != verification_key(e)) == (name in (*CHECKED_FIELDS, "id"))
    assert verification_key(edited, snippets=True) != verification_key(e, snippets=True)
    assert verification_key(e, seed=1) != verification_key(e) != verification_key(e, snippets=True)


def test_fields_outside_the_check_key_do_not_change_a_verdict():
    for e in SAMPLE[:3]:
        others = [f.name for f in dataclasses.fields(Entry) if f.name not in (*CHECKED_FIELDS, *NOT_KEYED, "id")]
        edited = e
        for name in others:
            edited = _changed(edited, name)
        assert _same(verify_entry(edited), verify_entry(e))


def test_the_code_digest_ignores_catalogue_data(tmp_path):
    (tmp_path / "m.py").write_text("x = 1")
    (tmp_path / "c.toml").write_text("a = 1")
    before = code_digest(tmp_path)
    (tmp_path / "c.toml").write_text("a = 2")
    assert code_digest(tmp_path) == before
    (tmp_path / "m.py").write_text("x = 2")
    assert code_digest(tmp_path) != before


def test_the_code_digest_leaves_out_the_sub_packages_it_is_told_to(tmp_path):
    # the site's derivations depend on the checker's code, not on how pages look
    (tmp_path / "site").mkdir()
    (tmp_path / "m.py").write_text("x = 1")
    (tmp_path / "site" / "p.py").write_text("y = 1")
    before, whole = code_digest(tmp_path, without=("site",)), code_digest(tmp_path)
    (tmp_path / "site" / "p.py").write_text("y = 2")
    assert code_digest(tmp_path, without=("site",)) == before
    assert code_digest(tmp_path) != whole
    (tmp_path / "m.py").write_text("x = 2")
    assert code_digest(tmp_path, without=("site",)) != before


def test_workers_find_what_one_process_finds_and_a_record_reads_back_the_same(tmp_path):
    serial = [verify_entry(e) for e in SAMPLE]
    done = []
    store = VerdictStore(tmp_path / "v.json")
    parallel = verify_entries(SAMPLE, jobs=2, store=store, done=done.append)
    assert all(_same(a, b) for a, b in zip(serial, parallel)) and len(done) == len(SAMPLE)
    assert [r.entry.id for r in parallel] == [e.id for e in SAMPLE]  # in the order given
    again = VerdictStore(tmp_path / "v.json")
    for r in serial:
        back = EntryResult.from_record(r.entry, again.get(verification_key(r.entry)))
        assert back.reused and _same(back, r) and back.problems == r.problems
    assert any(r.wrong is not None for r in serial)


def test_a_record_is_reused_only_for_the_same_entry_code_and_libraries(tmp_path):
    e = CATALOGUE.get("trace-transpose")
    path = tmp_path / "v.json"
    store = VerdictStore(path)
    verify_entries([e], store=store)
    # a tampered record shows that the second run reads it rather than checking again
    record = store.get(verification_key(e))
    record["layouts"]["numerator"]["status"] = "refuted"
    store.save()
    assert not verify_entries([e], store=VerdictStore(path))[0].ok
    assert verify_entries([e], store=VerdictStore(path), fresh=True)[0].ok  # --fresh checks again
    assert verify_entries([e], store=VerdictStore(path))[0].reused  # and records what it found
    wrong = dataclasses.replace(e, formula=r"\operatorname{tr}(A) = 2 \operatorname{tr}(A^T)")
    assert not verify_entries([wrong], store=VerdictStore(path))[0].ok  # an edit is a new key
    assert VerdictStore(path, inputs="other code").records == {}  # other code or libraries: nothing reused
    path.write_text("{ not json")
    assert VerdictStore(path).records == {}


def test_matref_verify_reuses_identical_runs_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MATREF_CACHE_DIR", str(tmp_path))
    assert cli.main(["verify", "--family", "layouts", "-j", "1"]) == 0
    first = capsys.readouterr().out
    assert "as an identical earlier run found" not in first
    data = json.loads((tmp_path / "verdicts.json").read_text())
    key, record = next(iter(data["records"].items()))
    record["layouts"]["denominator"].update(status="refuted", message="tampered")
    (tmp_path / "verdicts.json").write_text(json.dumps(data))
    assert cli.main(["verify", "--family", "layouts", "-j", "1"]) == 1
    out = capsys.readouterr().out
    assert "denominator layout: refuted: tampered" in out and "10 of them as an identical earlier run found" in out
    assert cli.main(["verify", "--family", "layouts", "-j", "1", "--fresh"]) == 0
    assert cli.main(["verify", "--family", "layouts", "--no-cache"]) == 0
    assert "as an identical earlier run found" not in capsys.readouterr().out


@pytest.mark.parametrize("given, expected", [("3", 3), ("1", 1), ("0", None), ("many", None), ("", None)])
def test_matref_jobs_sets_the_number_of_workers_when_it_is_a_positive_whole_number(given, expected, monkeypatch):
    from matref._workers import default_jobs

    monkeypatch.delenv("MATREF_JOBS", raising=False)
    cores = default_jobs()
    monkeypatch.setenv("MATREF_JOBS", given)
    assert default_jobs() == (cores if expected is None else expected)
