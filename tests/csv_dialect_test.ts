/** CSV dialects (io/csv_dialect.ts): `;`, tab and `|` separated files decode as the comma-separated ones do. */
import { strict as assert } from "node:assert";
import { decodeCsv } from "../io/csv.ts";
import { csvDialect, detectDelimiter, toCommaSeparated } from "../io/csv_dialect.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("csv dialect: the header's most frequent delimiter outside quotes; commas left as they are", () => {
  assert.equal(detectDelimiter("a,b,c\n1,2,3\n"), ",");
  assert.equal(detectDelimiter("\n a;b;c\n1;2;3\n"), ";");
  assert.equal(detectDelimiter("a\tb\n"), "\t");
  assert.equal(detectDelimiter('"x;y",b,c\n'), ",");
  assert.equal(detectDelimiter("close\n1\n"), ",");
  const text = "a,b\n1,2\n";
  assert.equal(toCommaSeparated(text), text);
  assert.equal(toCommaSeparated('a;b;c\r\n1,5;"q;""x""";-2,0e3\n'), 'a,b,c\r\n1.5,"q;""x""",-2.0e3\n');
});

Deno.test("csv dialect: a ';'-separated file with decimal commas decodes like its comma-separated twin", () => {
  const comma = decodeCsv(
    enc("timestamp,open,close\n2024-01-02T00:00:00Z,1.5,2.25\n2024-01-03T00:00:00Z,2,3\n"),
    "c",
  );
  const semi = decodeCsv(
    enc("timestamp;open;close\n2024-01-02T00:00:00Z;1,5;2,25\n2024-01-03T00:00:00Z;2;3\n"),
    "s",
  );
  assert.deepEqual(semi.columns, comma.columns);
  assert.deepEqual(semi.timestamps, comma.timestamps);
  // Line numbers in messages stay the file's.
  assert.throws(() => decodeCsv(enc("a;b\n1;2\n3\n"), "s.csv"), /s\.csv: line 3 has 1 fields; expected 2/);
});

Deno.test("csv dialect: day-first, month-first and year-first dates are read as the whole column allows", () => {
  const ts = (text: string) => Array.from(decodeCsv(enc(text), "d.csv").timestamps!);
  const want = [Date.UTC(2024, 0, 13), Date.UTC(2024, 1, 2)];
  // 13 can only be a day: day first, for every row (02.02 is then February 2, not a guess per row).
  assert.deepEqual(ts("Date;Close\n13.01.2024;1,5\n02.02.2024;2\n"), want);
  assert.deepEqual(csvDialect("Date;Close\n13.01.2024;1,5\n02.02.2024;2\n"), {
    delimiter: ";",
    dates: "DMY",
    ambiguous: false,
  });
  assert.deepEqual(ts("date,close\n01/13/2024,1\n2/2/2024,2\n"), want);
  assert.equal(csvDialect("date,close\n01/13/2024,1\n2/2/2024,2\n").dates, "MDY");
  assert.deepEqual(ts("date,close\n2024/01/13,1\n2024/02/02 09:30,2\n"), [
    want[0],
    Date.UTC(2024, 1, 2, 9, 30),
  ]);
  // Every day <= 12: the convention of the separator, reported as ambiguous.
  assert.deepEqual(csvDialect("date,close\n01/02/2024,1\n"), {
    delimiter: ",",
    dates: "MDY",
    ambiguous: true,
  });
  assert.deepEqual(csvDialect("date;close\n01.02.2024;1\n"), {
    delimiter: ";",
    dates: "DMY",
    ambiguous: true,
  });
  // ISO and epoch timestamps are left to io/timestamps.ts; the text is not rewritten.
  const iso = "timestamp,close\n2024-01-13T00:00:00Z,1\n";
  assert.equal(toCommaSeparated(iso), iso);
  assert.deepEqual(csvDialect(iso), { delimiter: ",", dates: null, ambiguous: false });
  assert.deepEqual(csvDialect("ts,close\n1704153600000,1\n").dates, null);
});
