/**
 * Writes tests/fixtures/feather_writer/{zstd,lz4,none}.feather: tests/feather_fixture.ts's columns encoded by
 * encodeFeather. The committed files were made by the apache-arrow writer that pipeline/output.ts used before
 * the part writer (io/feather_write.ts); tests/feather_write_test.ts checks that today's writer gives the same
 * bytes, schema and values. Run: deno run --allow-write scripts/make_feather_writer_fixture.ts
 */
import { encodeFeather } from "../io/feather_write.ts";
import { featherFixtureInput } from "../tests/feather_fixture.ts";

const { columns, timestamps } = featherFixtureInput();
for (const compression of ["zstd", "lz4", "none"] as const) {
  const out = new URL(`../tests/fixtures/feather_writer/${compression}.feather`, import.meta.url);
  await Deno.writeFile(out, encodeFeather(columns, timestamps, compression));
}
