/** CSV dialects (io/csv_dialect.ts): `;`, tab and `|` separated files decode as the comma-separated ones do. */
import { strict as assert } from "node:assert";
import { decodeCsv } from "../io/csv.ts";
import { detectDelimiter, toCommaSeparated } from "../io/csv_dialect.ts";

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
