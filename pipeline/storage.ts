/** Opens the configured source and output locations (local folders or s3:// prefixes). */
import type { S3Config } from "../config/schema.ts";
import { type S3Connection, storageFor } from "../io/s3.ts";
import type { Storage } from "../io/storage.ts";

/** The S3 connection described by the `storage.s3` section (AWS's regional endpoint when none is given). */
export function s3Connection(s3: S3Config): S3Connection | undefined {
  if (!s3.access_key_id || !s3.secret_access_key) return undefined;
  const region = s3.region === "auto" && !s3.endpoint ? "us-east-1" : s3.region;
  return {
    endpoint: s3.endpoint ?? `https://s3.${region}.amazonaws.com`,
    region,
    accessKeyId: s3.access_key_id,
    secretAccessKey: s3.secret_access_key,
    forcePathStyle: s3.force_path_style,
  };
}

/** A Storage for a folder path or an s3:// URL. */
export function openStorage(location: string, s3: S3Config): Storage {
  return storageFor(location, location.startsWith("s3://") ? s3Connection(s3) : undefined);
}
