/**
 * The storyline report in the stack's private, encrypted S3 bucket, and the link people follow
 * to it from Security Hub: the S3 console URL of the object (not a presigned URL, which
 * expires). S3 PutObject: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Storyline } from '../model/storyline';
import { reportRenderer } from './renderer';

/** The object key of a finding's report: one object per finding, replaced when it is enriched again. */
export function reportKey(st: Storyline): string {
  return `reports/${st.finding.accountId}/${st.finding.region}/${st.finding.id}.html`;
}

/** The S3 console URL of an object, in the console of the bucket's partition. */
export function s3ConsoleUrl(bucket: string, key: string, region: string, partition = 'aws'): string {
  const host = partition === 'aws-us-gov' ? 'console.amazonaws-us-gov.com' : partition === 'aws-cn' ? 'console.amazonaws.cn' : 's3.console.aws.amazon.com';
  return `https://${host}/s3/object/${encodeURIComponent(bucket)}?region=${encodeURIComponent(region)}&prefix=${encodeURIComponent(key)}`;
}

/**
 * Renders the report (its renderers loaded on the first call: ./renderer) and writes it to
 * `bucket` (encrypted by the bucket's default encryption); returns its console URL. Errors are the SDK's (the caller notes them and goes on without a link).
 */
export async function putReport(s3: S3Client, bucket: string, bucketRegion: string, st: Storyline, now: string): Promise<string> {
  const key = reportKey(st);
  const html = await reportRenderer().renderHtml(st, { generatedAt: now });
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: html, ContentType: 'text/html; charset=utf-8', CacheControl: 'no-store' }),
  );
  return s3ConsoleUrl(bucket, key, bucketRegion, st.finding.arn.split(':')[1] || 'aws');
}
