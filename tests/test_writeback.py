"""P-dates written back for the scheduling tools (issue 16): MS Project XML custom date
fields, a P6 spreadsheet, and ``pmosim run --write-back``.

Real files from ../shared/data: ProjectLibre's "New Product" (MSPDI; ProjectLibre, CPAL-1.0)
and MPXJ's MSPDI and XER test files (LGPL-2.1).
"""

import csv
import datetime as dt
import hashlib
import shutil

import defusedxml.ElementTree as DET
import pytest
from click.testing import CliRunner

import pmosim
from _data import data_dir
from pmosim.cli import cli
from pmosim.errors import ModelError
from pmosim.io._common import _axis_week
from pmosim.io.writeback import (DEFAULT_FIELDS, MSP_DATE_FIELDS, field_label,
                                 pdate_moments, write_mspdi_pdates, write_p6_csv,
                                 write_p6_xlsx)
from pmosim.uncertainty import apply_uncertainty

NS = "{http://schemas.microsoft.com/project}"
N = 400


def new_product():
    return data_dir("projectlibre", "New Product.xml")


def _simulate(path, n=N, seed=2):
    project = apply_uncertainty(pmosim.load(path), ["pert(-10%, 0, +30%)"])
    return pmosim.simulate(project, n, seed=seed)


@pytest.fixture(scope="module")
def np_result():
    return _simulate(new_product())


def _values(root):
    """UID -> {FieldID: Value} of every task's extended attributes."""
    out = {}
    for task in root.iter(f"{NS}Task"):
        out[int(task.findtext(f"{NS}UID"))] = {
            ea.findtext(f"{NS}FieldID"): ea.findtext(f"{NS}Value")
            for ea in task.findall(f"{NS}ExtendedAttribute")}
    return out


def _definitions(root):
    return {d.findtext(f"{NS}FieldID"): d for d in
            root.find(f"{NS}ExtendedAttributes").findall(f"{NS}ExtendedAttribute")}


def _strip_ours(root, ours):
    """The tree without what the write-back added: our values and our aliases."""
    for task in root.iter(f"{NS}Task"):
        for ea in task.findall(f"{NS}ExtendedAttribute"):
            if ea.findtext(f"{NS}FieldID") in ours:
                task.remove(ea)
    for fid, d in _definitions(root).items():
        alias = d.find(f"{NS}Alias")
        if fid in ours and alias is not None and alias.text.startswith("pmosim "):
            d.remove(alias)
    return root


def _same_tree(a, b):
    """Element by element: tag, attributes, text (whitespace aside), in order."""
    ea, eb = list(a.iter()), list(b.iter())
    assert len(ea) == len(eb)
    for x, y in zip(ea, eb):
        assert (x.tag, x.attrib, (x.text or "").strip()) == (y.tag, y.attrib,
                                                            (y.text or "").strip())


def test_mspdi_write_back_of_new_product(np_result, tmp_path):
    src = new_product()
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "New Product P-dates.xml"
    back = write_mspdi_pdates(src, np_result, out)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before     # input untouched

    # ProjectLibre declares every custom field without an alias: the first six are named
    assert back.fields == [(spec, f"Date{k}") for k, spec in enumerate(DEFAULT_FIELDS, 1)]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<?xml")
    assert '<Project xmlns="http://schemas.microsoft.com/project">' in text
    written = DET.parse(out).getroot()
    defs = _definitions(written)
    for spec, name in back.fields:
        fid = str(MSP_DATE_FIELDS[name])
        assert defs[fid].findtext(f"{NS}FieldName") == name
        q, side = float(spec.split()[0][1:]), spec.split()[1]
        assert defs[fid].findtext(f"{NS}Alias") == field_label(q, side)

    # every simulated task carries its P-dates; the date is the result's date and the
    # moment is exactly the working time of the percentile on the axis calendar
    t = np_result.tasks
    values = _values(written)
    week, hpd = _axis_week(np_result.project)
    n_tasks = 0
    for i, tid in enumerate(t.ids):
        if t.kinds[i] == "connector":
            continue
        n_tasks += 1
        for spec, name in back.fields:
            q, side = float(spec.split()[0][1:]), spec.split()[1]
            moment = dt.datetime.fromisoformat(values[tid][str(MSP_DATE_FIELDS[name])])
            assert moment.second == 0
            time = float((t.finish_percentile if side == "finish" else t.start_percentile)(q)[i])
            # to the minute: 1/480 of an 8-hour working day
            assert abs(week.work(moment) / hpd - time) <= 0.5 / 480 + 1e-12
            if side == "finish":
                assert moment.date() == t.finish_dates(q)[i]
            else:
                assert moment.date() == t.start_dates(q)[i]
    assert back.tasks == n_tasks == 36

    # the rest of the document is unchanged, and pmosim reads it to the same schedule
    ours = {str(MSP_DATE_FIELDS[name]) for _, name in back.fields}
    _same_tree(_strip_ours(written, ours), DET.parse(src).getroot())
    again = pmosim.load(out)
    assert list(again.graph.nodes) == list(np_result.project.graph.nodes)
    assert pmosim.cpm(again).finish == pmosim.cpm(pmosim.load(src)).finish


def test_writing_back_into_a_written_file_replaces_the_values(np_result, tmp_path):
    first = write_mspdi_pdates(new_product(), np_result, tmp_path / "a.xml",
                               fields=["P80 finish"])
    other = _simulate(new_product(), seed=9)
    second = write_mspdi_pdates(tmp_path / "a.xml", other, tmp_path / "b.xml",
                                fields=["P80 finish", "P90 finish"])
    assert first.fields == [("P80 finish", "Date1")]
    assert second.fields == [("P80 finish", "Date1"), ("P90 finish", "Date2")]
    root = DET.parse(tmp_path / "b.xml").getroot()
    moments = pdate_moments(other, ["P80 finish"])[(80.0, "finish")]
    for i, tid in enumerate(other.tasks.ids):
        if other.tasks.kinds[i] == "connector":
            continue
        task = next(x for x in root.iter(f"{NS}Task") if x.findtext(f"{NS}UID") == str(tid))
        fields = [ea.findtext(f"{NS}FieldID") for ea in task.findall(f"{NS}ExtendedAttribute")]
        assert fields == [str(MSP_DATE_FIELDS["Date1"]), str(MSP_DATE_FIELDS["Date2"])]
        assert _values(root)[tid][str(MSP_DATE_FIELDS["Date1"])] == moments[i].isoformat()


def test_fields_in_use_are_left_alone(tmp_path):
    """mspextattr.xml (MPXJ) keeps a value in Date1 and writes without indentation: the
    P-dates go to Date2.., after the task's own extended attributes and before its
    outline code, and the file stays on one line."""
    src = data_dir("mpxj", "legacy", "mspextattr.xml")
    result = pmosim.simulate(pmosim.load(src), 200, seed=1)
    back = write_mspdi_pdates(src, result, tmp_path / "x.xml", fields=["P50 finish", "P80 finish"])
    assert back.fields == [("P50 finish", "Date2"), ("P80 finish", "Date3")]
    text = (tmp_path / "x.xml").read_text(encoding="utf-8")
    assert text.count("\n") <= 1
    root = DET.parse(tmp_path / "x.xml").getroot()
    task = next(x for x in root.iter(f"{NS}Task") if x.findtext(f"{NS}UID") == "1")
    tags = [c.tag.split("}")[1] for c in task]
    fields = [ea.findtext(f"{NS}FieldID") for ea in task.findall(f"{NS}ExtendedAttribute")]
    assert fields[0] == "188743731" and fields[-2:] == ["188743946", "188743947"]
    assert tags[-1] == "OutlineCode" and tags[-2] == "ExtendedAttribute"
    assert _values(root)[1]["188743945"] == "2004-07-18T08:00:00"        # kept


def test_no_free_date_field_is_a_clear_error(tmp_path):
    src = tmp_path / "used.xml"
    text = data_dir("mpxj", "legacy", "mspextattr.xml").read_text(encoding="utf-8")
    aliases = "".join(f"<ExtendedAttribute><FieldID>{fid}</FieldID><FieldName>{name}"
                      f"</FieldName><Alias>Mine {name}</Alias></ExtendedAttribute>"
                      for name, fid in MSP_DATE_FIELDS.items() if name != "Date1")
    src.write_text(text.replace("<ExtendedAttributes>", "<ExtendedAttributes>" + aliases),
                   encoding="utf-8")
    result = pmosim.simulate(pmosim.load(src), 64, seed=1)
    with pytest.raises(ModelError, match=r"10 task custom date fields and 0 are free \(in use: "
                                         r"Date1 \(task values\), Date2 \(alias 'Mine Date2'\)"):
        write_mspdi_pdates(src, result, tmp_path / "o.xml", fields=["P80 finish"])
    assert not (tmp_path / "o.xml").exists()


MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="http://schemas.microsoft.com/project">
  <!-- written by hand -->
  <StartDate>2027-03-01T08:00:00</StartDate>
  <MinutesPerDay>480</MinutesPerDay>
  <Tasks>
    <Task>
      <UID>1</UID>
      <Name>Dig</Name>
      <Duration>PT24H0M0S</Duration>
      <Baseline><Number>0</Number></Baseline>
      <IsPublished>1</IsPublished>
    </Task>
    <Task>
      <UID>2</UID>
      <Name>Done</Name>
      <Duration>PT0H0M0S</Duration>
      <PredecessorLink><PredecessorUID>1</PredecessorUID><Type>1</Type></PredecessorLink>
    </Task>
  </Tasks>
</Project>
"""


def test_a_file_without_definitions_gets_them_in_schema_order(tmp_path):
    src = tmp_path / "min.xml"
    src.write_text(MINIMAL, encoding="utf-8")
    result = pmosim.simulate(pmosim.load(src), 64, seed=1)
    write_mspdi_pdates(src, result, tmp_path / "out.xml", fields=["P50 start", "P50 finish"])
    text = (tmp_path / "out.xml").read_text(encoding="utf-8")
    assert "<!-- written by hand -->" in text
    root = DET.parse(tmp_path / "out.xml").getroot()
    assert [c.tag.split("}")[1] for c in root if isinstance(c.tag, str)] == [
        "StartDate", "MinutesPerDay", "ExtendedAttributes", "Tasks"]
    dig, done = root.find(f"{NS}Tasks")
    assert [c.tag.split("}")[1] for c in dig] == [
        "UID", "Name", "Duration", "ExtendedAttribute", "ExtendedAttribute", "Baseline",
        "IsPublished"]
    assert [c.tag.split("}")[1] for c in done][-2:] == ["ExtendedAttribute"] * 2
    # a 3-day task from Monday 08:00 (constant: every percentile is the plan) and the
    # milestone after it, whose start is its finish (Wednesday evening)
    assert _values(root)[1] == {"188743945": "2027-03-01T08:00:00",
                                "188743946": "2027-03-03T17:00:00"}
    assert _values(root)[2] == {"188743945": "2027-03-03T17:00:00",
                                "188743946": "2027-03-03T17:00:00"}
    # indentation follows the file's
    assert "\n  <ExtendedAttributes>\n    <ExtendedAttribute>\n      <FieldID>" in text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Project')


def test_write_back_refuses_its_input_and_another_files_result(np_result, tmp_path):
    src = tmp_path / "min.xml"
    src.write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(ModelError, match="this is the input file"):
        write_mspdi_pdates(src, pmosim.simulate(pmosim.load(src), 16, seed=1), src)
    with pytest.raises(ModelError, match=r"tasks of the result are not tasks of this file"):
        write_mspdi_pdates(src, np_result, tmp_path / "o.xml")
    with pytest.raises(ModelError, match="expected 'P<percentile> start'"):
        write_mspdi_pdates(new_product(), np_result, tmp_path / "o.xml", fields=["P80 end"])


# -- Primavera P6 ---------------------------------------------------------------------------
UDFTYPE = ("%T\tUDFTYPE\n%F\tudf_type_id\ttable_name\tudf_type_name\tudf_type_label\t"
           "logical_data_type\tsuper_flag\tindicator_expression\tsummary_indicator_expression\n"
           "%R\t301\tTASK\tuser_field_301\tpmosim P80 Finish\tFT_END_DATE\tN\t\t\n"
           "%R\t302\tTASK\tuser_field_302\tpmosim P80 Finish\tFT_TEXT\tN\t\t\n")


@pytest.fixture
def xer(tmp_path):
    """MPXJ's PredecessorCalendar.xer with activity UDFs defined, as P6 exports them."""
    text = data_dir("mpxj", "PredecessorCalendar.xer").read_text(encoding="cp1252")
    head, tables = text.split("\n", 1)
    path = tmp_path / "plan.xer"
    path.write_text(head + "\n" + UDFTYPE + tables, encoding="cp1252")
    return path


def test_p6_csv_names_the_udf_columns(xer, tmp_path):
    result = pmosim.simulate(pmosim.load(xer), 200, seed=1)
    back = write_p6_csv(result, tmp_path / "p6.csv", ["P50 finish", "P80 finish"])
    assert back.fields == [("P50 finish", "pmosim_P50_finish"), ("P80 finish", "user_field_301")]
    assert len(back.warnings) == 1 and "'pmosim P50 Finish'" in back.warnings[0]
    with open(tmp_path / "p6.csv", encoding="utf-8-sig", newline="") as fh:
        names, captions, *rows = list(csv.reader(fh))
    assert names == ["task_code", "task_name", "pmosim_P50_finish", "user_field_301"]
    assert captions == ["Activity ID", "Activity Name", "pmosim P50 Finish", "pmosim P80 Finish"]
    moments = pdate_moments(result, ["P50 finish", "P80 finish"])
    graph = result.project.graph
    assert [r[0] for r in rows] == [graph.nodes[t]["code"] for t in result.tasks.ids]
    for i, row in enumerate(rows):
        assert row[2] == moments[(50.0, "finish")][i].strftime("%Y-%m-%d %H:%M")
        assert row[3] == moments[(80.0, "finish")][i].strftime("%Y-%m-%d %H:%M")


def test_p6_xlsx_is_a_task_sheet(xer, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    result = pmosim.simulate(pmosim.load(xer), 200, seed=1)
    back = write_p6_xlsx(result, tmp_path / "p6.xlsx", ["P80 finish"],
                         udf_names={"P80 finish": "user_field_999"})
    assert back.fields == [("P80 finish", "user_field_999")] and not back.warnings
    ws = openpyxl.load_workbook(tmp_path / "p6.xlsx")["TASK"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == ["task_code", "task_name", "user_field_999"]
    assert rows[1] == ["Activity ID", "Activity Name", "pmosim P80 Finish"]
    assert rows[2][2] == pdate_moments(result, ["P80 finish"])[(80.0, "finish")][0]
    assert ws.cell(3, 3).number_format == "yyyy-mm-dd hh:mm"


def test_sp10_udfs_are_found_by_title():
    """SP10's own UDFTYPE table (P6's export): its activity text UDFs are no date fields."""
    from pmosim.io.writeback import _p6_udfs
    udfs = _p6_udfs(data_dir("p6", "SP10 - COST LOADED.xer"))
    assert udfs == {}        # SP10 has text UDFs only (user_field_128 "EWC WI Ref", ...)


# -- command line ---------------------------------------------------------------------------
def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_cli_write_back_mspdi(tmp_path):
    src = tmp_path / "New Product.xml"
    shutil.copy(new_product(), src)
    out = tmp_path / "np-pdates.xml"
    res = invoke("run", src, "-n", 200, "--seed", 1, "--out", tmp_path / "o",
                 "--uncertainty", "pert(-10%, 0, +30%)", "--write-back", out,
                 "--write-back-fields", "P80 finish, P90 finish")
    assert res.exit_code == 0, res.output
    assert "Write-back: 36 tasks of" in res.output
    assert "P80 finish in Date1, P90 finish in Date2" in res.output
    assert str(out) in res.output.splitlines()[-1]
    root = DET.parse(out).getroot()
    assert {d.findtext(f"{NS}Alias") for d in _definitions(root).values()} >= {
        "pmosim P80 Finish", "pmosim P90 Finish"}


def test_cli_write_back_p6(xer, tmp_path):
    res = invoke("run", xer, "-n", 100, "--out", tmp_path / "o", "--write-back",
                 tmp_path / "p6.csv", "--write-back-fields", "P80 finish")
    assert res.exit_code == 0, res.output
    assert "Write-back: 1 activities (task_code) with P80 finish -> user_field_301" in res.output


@pytest.mark.parametrize("target, message", [
    ("out.csv", "for an MS Project input the file written is .xml; use e.g. out.xml"),
    ("out.xml", None),
])
def test_cli_write_back_errors(tmp_path, target, message):
    src = tmp_path / "min.xml"
    src.write_text(MINIMAL, encoding="utf-8")
    res = invoke("run", src, "-n", 50, "--out", tmp_path / "o", "--write-back",
                 tmp_path / target)
    if message is None:
        assert res.exit_code == 0, res.output
        return
    assert res.exit_code == 1
    assert res.output == f"Error: --write-back {tmp_path / target}: {message}\n"


def test_cli_write_back_needs_a_tool_format(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('[[tasks]]\nid = "a"\nduration = 2\n', encoding="utf-8")
    res = invoke("run", plan, "-n", 50, "--out", tmp_path / "o", "--write-back",
                 tmp_path / "x.xml")
    assert res.exit_code == 1
    assert "works for MS Project XML inputs" in res.output and "is a toml file" in res.output
    res = invoke("run", plan, "-n", 50, "--out", tmp_path / "o", "--write-back-fields",
                 "P80 finish")
    assert res.output == "Error: --write-back-fields: give --write-back FILE as well\n"
    res = invoke("run", plan, "-n", 50, "--out", tmp_path / "o", "--write-back",
                 tmp_path / "x.xml", "--write-back-fields", "P80 later")
    assert res.exit_code == 2 and "'P<percentile> finish'" in res.output


PROGRESSED = """<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="http://schemas.microsoft.com/project">
  <StartDate>2027-03-08T08:00:00</StartDate>
  <MinutesPerDay>480</MinutesPerDay>
  <Tasks>
    <Task><UID>1</UID><Name>Dig</Name><Duration>PT24H0M0S</Duration>
      <ActualStart>2027-03-01T08:00:00</ActualStart>
      <ActualFinish>2027-03-03T17:00:00</ActualFinish></Task>
    <Task><UID>2</UID><Name>Pour</Name><Duration>PT16H0M0S</Duration>
      <PredecessorLink><PredecessorUID>1</PredecessorUID><Type>1</Type></PredecessorLink></Task>
  </Tasks>
</Project>
"""


def test_a_completed_task_keeps_its_actual_dates(tmp_path):
    """Times before the data date (time 0) are a completed task's actual dates; the
    write-back gives them back as they are in the file."""
    src = tmp_path / "progressed.xml"
    src.write_text(PROGRESSED, encoding="utf-8")
    result = pmosim.simulate(pmosim.load(src), 64, seed=1)
    write_mspdi_pdates(src, result, tmp_path / "out.xml", fields=["P50 start", "P90 finish"])
    values = _values(DET.parse(tmp_path / "out.xml").getroot())
    assert values[1] == {"188743945": "2027-03-01T08:00:00", "188743946": "2027-03-03T17:00:00"}
    # the pour starts at the data date and takes two days
    assert values[2] == {"188743945": "2027-03-08T08:00:00", "188743946": "2027-03-09T17:00:00"}
