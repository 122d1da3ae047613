/**
 * The evidence of an enrichment, kept beside its report so that a re-published finding (the
 * same finding Id with a later `updatedAt` and a higher count, pitfall 2) only needs the new
 * time slice looked up: the records found so far, and how far the look-ups reached.
 * Stored gzipped at `reports/<account>/<region>/<finding id>.evidence.json.gz`.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { NormalizedFinding } from '../model/finding';
import type { TrailEvent } from '../trail/event';

/** What an earlier enrichment of the same finding gathered. */
export interface Evidence {
  findingId: string;
  /** Epoch ms up to which CloudTrail was looked up. */
  lookedUpUntil: number;
  /** Epoch ms from which it was looked up. */
  lookedUpFrom: number;
  events: TrailEvent[];
}

export interface EvidenceStore {
  /** The evidence of an earlier enrichment, or null (none yet, or unreadable: then everything is looked up again). */
  load(f: NormalizedFinding): Promise<Evidence | null>;
  save(f: NormalizedFinding, e: Evidence): Promise<void>;
}

export function evidenceKey(f: NormalizedFinding): string {
  return `reports/${f.accountId}/${f.region}/${f.id}.evidence.json.gz`;
}

/** The store in the stack's report bucket. */
export class S3EvidenceStore implements EvidenceStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async load(f: NormalizedFinding): Promise<Evidence | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: evidenceKey(f) }));
      const bytes = await out.Body?.transformToByteArray();
      if (!bytes) return null;
      const e = JSON.parse(gunzipSync(Buffer.from(bytes)).toString('utf8')) as Evidence;
      return e && e.findingId === f.id && Array.isArray(e.events) && Number.isFinite(e.lookedUpUntil) ? e : null;
    } catch {
      return null;
    }
  }

  async save(f: NormalizedFinding, e: Evidence): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: evidenceKey(f), Body: gzipSync(JSON.stringify(e)), ContentType: 'application/json', ContentEncoding: 'gzip' }),
    );
  }
}
