//! The Apache Spark job: a self-contained PySpark program.

use super::*;

/// A Python string literal (JSON's escapes are Python's).
pub(super) fn py_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

pub(super) fn spark_job(job: &JobText<'_>) -> String {
    let JobText {
        rules,
        groups,
        fields,
        skipped,
        ..
    } = job;
    let no_lists = BTreeSet::new();
    let renderer = JobRenderer::new(Engine::Spark, &no_lists);
    let d = &renderer.dialect;
    let mut out = String::from("#!/usr/bin/env python3\n");
    for l in header("Apache Spark", rules, skipped) {
        let _ = writeln!(out, "# {l}");
    }
    out.push_str(
        "#\n# python detect.py --input DIR --output DIR       (Spark in local mode when no master is configured)\n# spark-submit detect.py --input s3://... --output s3://...\n# reads the Parquet folder `sigil export` wrote, writes the detections as Parquet to --output.\n\nimport argparse\nimport json\n\nfrom pyspark import SparkConf\nfrom pyspark.sql import SparkSession, functions as F, types as T\n\n",
    );
    let meta: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| serde_json::json!([r.id, r.title, r.level, r.tags]))
        .collect();
    let _ = writeln!(
        out,
        "RULES = json.loads({})\n",
        py_str(&serde_json::Value::Array(meta).to_string())
    );
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let lists: Vec<&str> = fields
        .iter()
        .filter(|f| f.list)
        .map(|f| f.name.as_str())
        .collect();
    let _ = writeln!(
        out,
        "FIELDS = json.loads({})\n",
        py_str(&serde_json::json!(names).to_string())
    );
    let _ = writeln!(
        out,
        "LISTS = set(json.loads({}))\n",
        py_str(&serde_json::json!(lists).to_string())
    );
    // One array of rule indices per branch, empty unless the branch's selector holds; the
    // arrays of an event are concatenated and exploded (one pass over the data).
    let branches: Vec<String> = groups
        .iter()
        .flat_map(|g| {
            g.branches().map(|branch| {
                let selector = g.selector.as_deref();
                if let [(i, rest)] = branch {
                    format!(
                        "CASE WHEN {} THEN array({i}) ELSE CAST(array() AS ARRAY<INT>) END",
                        sql_and(selector, rest)
                    )
                } else {
                    let cases: Vec<String> = branch
                        .iter()
                        .map(|(i, rest)| format!("CASE WHEN {rest} THEN {i} ELSE -1 END"))
                        .collect();
                    // `array_remove`, not a `filter` lambda: Spark generates code for it.
                    let array = format!("array_remove(array(\n  {}\n), -1)", cases.join(",\n  "));
                    match selector {
                        Some(s) => format!(
                            "CASE WHEN {s} THEN {array} ELSE CAST(array() AS ARRAY<INT>) END"
                        ),
                        None => array,
                    }
                }
            })
        })
        .collect();
    let _ = writeln!(
        out,
        "PROJECTION = {}\n",
        py_str(&event_projection(&job.event, |c| d.field(c)))
    );
    let _ = writeln!(
        out,
        "BRANCHES = json.loads({})\n",
        py_str(&serde_json::json!(branches).to_string())
    );
    out.push_str(SPARK_MAIN);
    out
}

pub(super) const SPARK_MAIN: &str = r#"
def main():
    parser = argparse.ArgumentParser(description="Runs the rules over the events sigil export wrote.")
    parser.add_argument("--input", required=True, help="folder of Parquet files")
    parser.add_argument("--output", required=True, help="folder the detections are written to (Parquet)")
    args = parser.parse_args()
    builder = SparkSession.builder.appName("sigil detection job")
    if not SparkConf().contains("spark.master"):
        builder = builder.master("local[*]")
    spark = builder.getOrCreate()
    # mergeSchema: batches exported apart hold different columns; without it Spark takes one
    # file's columns and the others' fields would read as NULL.
    events = spark.read.option("mergeSchema", "true").parquet(args.input)
    # Every field the rules name, as text (the fields of LISTS as lists of texts); NULL where
    # the data has no such column. Names are matched as sigil matches them: ignoring case and
    # spaces (`Process Name` is `ProcessName`).
    def key(name):
        return name.lower().replace(" ", "")

    def col(name):
        # A column by its name as it is (`User.Name` is not a field of a struct `User`).
        return F.col("`{}`".format(name.replace("`", "``")))

    present = {}
    for c in events.schema.fields:
        present.setdefault(key(c.name), c)
    for name in FIELDS:
        column = present.get(key(name))
        if column is not None and column.name != name:
            events = events.withColumnRenamed(column.name, name)
        is_list = column is not None and isinstance(column.dataType, T.ArrayType)
        if name in LISTS:
            if column is None:
                value = F.lit(None).cast("array<string>")
            elif is_list:
                value = col(name).cast("array<string>")
            else:
                value = F.when(col(name).isNull(), F.lit(None).cast("array<string>")).otherwise(
                    F.array(col(name).cast("string"))
                )
        elif is_list:
            raise SystemExit(
                "column `{}` holds lists: write the job for this data with `sigil convert --format job --lake DIR`".format(
                    column.name
                )
            )
        elif column is None:
            value = F.lit(None).cast("string")
        else:
            value = col(name).cast("string")
        events = events.withColumn(name, value)
    if "record_id" not in present:
        events = events.withColumn("record_id", F.lit(None).cast("long"))
    events.createOrReplaceTempView("events")
    matches = "concat({})".format(", ".join(BRANCHES)) if BRANCHES else "CAST(array() AS ARRAY<INT>)"
    hits = spark.sql("SELECT {}, explode({}) AS rule_index FROM events".format(PROJECTION, matches))
    schema = T.StructType([
        T.StructField("rule_index", T.IntegerType()),
        T.StructField("rule_id", T.StringType()),
        T.StructField("rule_title", T.StringType()),
        T.StructField("level", T.StringType()),
        T.StructField("tags", T.ArrayType(T.StringType())),
    ])
    rules = spark.createDataFrame([(i, *r) for i, r in enumerate(RULES)], schema)
    detections = hits.join(F.broadcast(rules), "rule_index").select(
        "rule_id", "rule_title", "level", "tags", "timestamp", "computer", "channel", "event_id", "record_id", "source"
    )
    detections.write.mode("overwrite").parquet(args.output)
    spark.stop()


if __name__ == "__main__":
    main()
"#;
