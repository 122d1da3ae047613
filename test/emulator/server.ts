/**
 * A local AWS emulator for tests and demos: one HTTP server on 127.0.0.1 that the real AWS SDK
 * v3 clients are pointed at with `endpoint`, speaking each service's own protocol and rejecting
 * what the real service rejects, checked against the official Smithy models
 * (/work/shared/aws-models).
 *
 * Routing: the SigV4 `Authorization` header's credential scope
 * (`Credential=<key>/<date>/<region>/<service>/aws4_request`, or `X-Amz-Credential` in the query)
 * names the region and the service; the access key names the account
 * ({@link AwsEmulator.accountForAccessKey}). Signatures are not verified; STS session tokens,
 * their expiry and opt-in regions are (see identity.ts: an account that has not enabled an
 * opt-in region, or global-endpoint STS credentials there, get HTTP 403 from every service).
 *
 * Protocols (as in each model's service traits): restJson1 (Security Hub, GuardDuty, Detective),
 * awsJson1_1 (CloudTrail, Organizations, Athena), awsJson1_0 + awsQueryCompatible (SQS), awsQuery (STS),
 * restXml (S3 CreateBucket / PutObject / GetObject, path-style).
 *
 * Usage:
 * ```ts
 * const emu = await AwsEmulator.start({ seed: 7 });
 * const sh = new SecurityHubClient(emu.clientConfig('111111111111', 'us-east-1'));
 * …
 * await emu.stop();
 * ```
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { AwsError } from './errors';
import { AthenaState } from './athena';
import { loadModels, loadSupplements, OperationInfo, Problem, problemsMessage, SmithyModel } from './models';
import { prng } from './prng';
import {
  buildHandlers, CallContext, CloudTrailState, DetectiveState, EmulatorKnobs, GuardDutyState, HandlerEntry, IdentityState,
  Json, OrganizationsState, partitionOfRegion, RawResponse, S3State, SecurityHubState, SqsState,
} from './services';

export type { EmulatorKnobs } from './services';

/** One line of the emulator's request log. `operation` is `?` when the request named none the model knows. */
export interface RequestLogEntry {
  service: string;
  operation: string;
  region: string;
  account: string;
  status: number;
}

/**
 * The AWS API models for a checkout at `root`: `<root>/../shared/aws-models` when it is there,
 * else the gzipped copies bundled in `<root>/test/emulator/models` (test/emulator/models/README.md).
 */
export function modelsDirOf(root: string): string {
  const shared = path.resolve(root, '..', 'shared', 'aws-models');
  return fs.existsSync(shared) ? shared : path.join(root, 'test', 'emulator', 'models');
}

/** Options of {@link AwsEmulator.start}. */
export interface EmulatorOptions {
  /** Directory of the Smithy JSON models; default {@link modelsDirOf} this repository. */
  modelsDir?: string;
  /** Seed of the PRNG behind the throttle / server-error knobs (default 1). */
  seed?: number;
  /** Account of access keys not mapped with {@link AwsEmulator.accountForAccessKey} (default `111111111111`). */
  defaultAccount?: string;
  /** Port (default 0: any free port). */
  port?: number;
}

/** Error codes of each service for the generic rejections (from the model's error shapes where it has them). */
const SERVICE_ERRORS: Record<string, { validation: string; throttle: [string, number]; server: [string, number] }> = {
  securityhub: { validation: 'InvalidInputException', throttle: ['TooManyRequestsException', 429], server: ['InternalException', 500] },
  guardduty: { validation: 'BadRequestException', throttle: ['TooManyRequestsException', 429], server: ['InternalServerErrorException', 500] },
  detective: { validation: 'ValidationException', throttle: ['TooManyRequestsException', 429], server: ['InternalServerException', 500] },
  cloudtrail: { validation: 'ValidationException', throttle: ['ThrottlingException', 400], server: ['InternalServerError', 500] },
  organizations: { validation: 'InvalidInputException', throttle: ['TooManyRequestsException', 400], server: ['ServiceException', 500] },
  sts: { validation: 'ValidationError', throttle: ['Throttling', 400], server: ['InternalFailure', 500] },
  sqs: { validation: 'InvalidParameterValue', throttle: ['RequestThrottled', 403], server: ['InternalError', 500] },
  s3: { validation: 'InvalidRequest', throttle: ['SlowDown', 503], server: ['InternalError', 500] },
  athena: { validation: 'InvalidRequestException', throttle: ['TooManyRequestsException', 400], server: ['InternalServerException', 500] },
};

/** The new Security Hub's operations (…V2) answer with the errors their reference lists: ValidationException, ThrottlingException, InternalServerException. */
const SECURITY_HUB_V2_ERRORS = { validation: 'ValidationException', throttle: ['ThrottlingException', 429] as [string, number], server: ['InternalServerException', 500] as [string, number] };


function xmlEscape(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Serialises a member-named value as awsQuery XML elements (lists as `<member>` items, dates ISO 8601). */
function toXml(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => `<member>${toXml(x)}</member>`).join('');
  if (typeof v === 'object') return Object.entries(v as Json).filter(([, x]) => x !== undefined).map(([k, x]) => `<${k}>${toXml(x)}</${k}>`).join('');
  return xmlEscape(String(v));
}

/** Decodes an `aws-chunked` body (SigV4 streaming upload): `<hex-size>[;chunk-signature=…]\r\n<data>\r\n … 0\r\n<trailers>`. */
function decodeAwsChunked(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(i, eol).toString('latin1').split(';')[0] ?? '0', 16);
    if (!size) break;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * The emulator. Start with {@link AwsEmulator.start}; point SDK clients at {@link AwsEmulator.endpoint}
 * (or use {@link AwsEmulator.clientConfig}); read and seed state through the typed accessors
 * (`securityHub`, `guardDuty`, `cloudTrail`, `detective`, `organizations`, `sqs`, `s3`).
 */
export class AwsEmulator {
  /** `http://127.0.0.1:<port>`, for the clients' `endpoint`. */
  endpoint = '';
  /** Behaviour knobs (see {@link EmulatorKnobs}); mutable at any time. */
  knobs: EmulatorKnobs = AwsEmulator.defaultKnobs();
  /** Every request answered, in order. */
  requests: RequestLogEntry[] = [];
  /** Loaded Smithy models by signing name. */
  readonly models: Map<string, SmithyModel>;
  /** Security Hub findings per region, hubs, administrators and members per region, finding aggregators. */
  securityHub!: SecurityHubState;
  /** GuardDuty detectors (with status) and native findings, delegated administrators and members per region. */
  guardDuty!: GuardDutyState;
  /** CloudTrail LookupEvents store per account and region. */
  cloudTrail!: CloudTrailState;
  /** Detective graphs (the creator is the administrator), members, organisation auto-enable, investigations. */
  detective!: DetectiveState;
  /** The organisation: root, OUs, accounts, delegated administrators. */
  organizations!: OrganizationsState;
  /** SQS queues and messages. */
  sqs!: SqsState;
  /** S3 buckets and objects. */
  s3!: S3State;
  /** Access key → account / ARN; IAM roles with trust policies; opt-in and enabled regions. */
  identities!: IdentityState;
  /** Athena: tables over folders, workgroups, query executions on DuckDB, knobs (athena.ts). */
  athena!: AthenaState;
  private handlers: Record<string, Record<string, HandlerEntry>> = {};
  private random: () => number;
  private readonly server: http.Server;
  private readonly seed: number;
  private readonly defaultAccount: string;

  private constructor(models: Map<string, SmithyModel>, opts: EmulatorOptions) {
    this.models = models;
    this.seed = opts.seed ?? 1;
    this.defaultAccount = opts.defaultAccount ?? '111111111111';
    this.random = prng(this.seed);
    this.server = http.createServer((req, res) => { void this.handle(req, res); });
    this.resetState();
  }

  /** Default knob values: no throttling, no server errors, no latency, LookupEvents 2/s, investigations done on the 2nd check, Security Hub quotas off. */
  static defaultKnobs(): EmulatorKnobs {
    return { throttleRate: 0, serverErrorRate: 0, latencyMs: 0, lookupEventsPerSecond: 2, timeScale: 1, investigationChecksToFinish: 2, securityHubQuotas: false, faults: {} };
  }

  /**
   * Loads the models and listens on 127.0.0.1 (`port` 0 = any free port).
   * @throws when the models directory holds no model or the port is taken.
   */
  static async start(opts: EmulatorOptions = {}): Promise<AwsEmulator> {
    const dir = opts.modelsDir ?? modelsDirOf(path.resolve(__dirname, '../..'));
    const models = loadModels(dir);
    if (!models.size) throw new Error(`no Smithy models in ${dir}`);
    // Operations the official models lack (BatchUpdateFindingsV2, GetFindingsV2): models/supplement/README.md.
    loadSupplements(models, path.join(__dirname, 'models', 'supplement'));
    const emu = new AwsEmulator(models, opts);
    await new Promise<void>((resolve, reject) => {
      emu.server.once('error', reject);
      emu.server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    emu.endpoint = `http://127.0.0.1:${(emu.server.address() as AddressInfo).port}`;
    return emu;
  }

  /** Closes the server (open keep-alive connections included). */
  async stop(): Promise<void> {
    this.athena.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Clears every service state, the request log and the key mapping, restores default knobs and re-seeds the PRNG. The state accessors are new objects afterwards. */
  reset(): void {
    this.resetState();
    this.requests = [];
    this.knobs = AwsEmulator.defaultKnobs();
    this.random = prng(this.seed);
  }

  private resetState(): void {
    // Opt-in regions decide the home Region and linked Regions of finding aggregators; `identities` is read when asked (it is made below).
    this.securityHub = new SecurityHubState({ isOptInRegion: (r) => this.identities.optInRegions.has(r), isRegionEnabled: (a, r) => this.identities.isRegionEnabled(a, r) });
    this.guardDuty = new GuardDutyState();
    this.cloudTrail = new CloudTrailState();
    this.detective = new DetectiveState();
    this.organizations = new OrganizationsState();
    this.sqs = new SqsState(() => this.endpoint);
    this.s3 = new S3State();
    this.identities = new IdentityState(this.organizations);
    (this.athena as AthenaState | undefined)?.close();
    this.athena = new AthenaState(this.seed);
    this.handlers = buildHandlers({
      securityHub: this.securityHub, guardDuty: this.guardDuty, cloudTrail: this.cloudTrail, detective: this.detective,
      identities: this.identities, organizations: this.organizations, sqs: this.sqs, s3: this.s3, athena: this.athena,
    }, () => this.defaultAccount);
  }

  /**
   * Maps an access key id to an account (and optionally the caller ARN that STS GetCallerIdentity returns;
   * default `arn:aws:iam::<account>:user/<accessKeyId>`). Unknown keys act in the default account.
   * For a role session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), trust policies
   * match `opts.roleArn`, else the ARN of the role of that name put with `identities.putRole`, else
   * `arn:aws:iam::<account>:role/<role>`. `opts.issuedRegion` marks STS credentials (the signing
   * region of the STS endpoint that issued them; us-east-1 = the global endpoint), `opts.sessionToken`
   * the token requests must carry.
   */
  accountForAccessKey(accessKeyId: string, account: string, arn?: string, opts: { roleArn?: string; issuedRegion?: string; sessionToken?: string } = {}): void {
    const a = arn ?? `arn:aws:iam::${account}:user/${accessKeyId}`;
    const session = /:assumed-role\/[^/]+\/(.+)$/.exec(a)?.[1];
    this.identities.keys.set(accessKeyId, { account, arn: a, userId: session ? `AROA${accessKeyId.slice(-12)}:${session}` : `AIDA${accessKeyId.slice(-12)}`, ...opts });
  }

  /** The opt-in regions (default `me-central-1`, `ap-east-1`); a mutable set, new after {@link reset}. */
  get optInRegions(): Set<string> {
    return this.identities.optInRegions;
  }

  /** Enables opt-in regions for an account (its `enabledRegions`: `identities.enabledRegions.get(account)`). */
  enableRegions(account: string, ...regions: string[]): void {
    this.identities.enableRegions(account, ...regions);
  }

  /**
   * SDK client configuration acting as a session of a role (as if the role had been assumed, without
   * a trust check): a new key `ASIAEMU…` mapped to `arn:aws:sts::<account>:assumed-role/<roleName>/<sessionName>`
   * (role ARN with the path of the role put with `identities.putRole`, if any). `issuedRegion` marks the
   * credentials as issued by that STS endpoint (us-east-1 = global: rejected in opt-in regions); default
   * none (valid in every region the account has enabled).
   */
  sessionClientConfig(account: string, roleName: string, region: string, opts: { sessionName?: string; issuedRegion?: string; maxAttempts?: number } = {}): {
    region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }; forcePathStyle: true; maxAttempts?: number;
  } {
    const session = opts.sessionName ?? 'emulator';
    const accessKeyId = `ASIAEMU${randomUUID().replace(/-/g, '').slice(0, 13).toUpperCase()}`;
    const sessionToken = `emu-${randomUUID()}`;
    const roleArn = this.identities.getRole(account, roleName)?.arn ?? `arn:aws:iam::${account}:role/${roleName}`;
    this.accountForAccessKey(accessKeyId, account, `arn:aws:sts::${account}:assumed-role/${roleName}/${session}`, { roleArn, sessionToken, ...(opts.issuedRegion ? { issuedRegion: opts.issuedRegion } : {}) });
    return { region, endpoint: this.endpoint, credentials: { accessKeyId, secretAccessKey: 'emulator-secret', sessionToken }, forcePathStyle: true, ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}) };
  }

  /** SDK client configuration from the `Credentials` of an STS AssumeRole answer. */
  credentialsClientConfig(creds: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined, region: string, maxAttempts?: number): {
    region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }; forcePathStyle: true; maxAttempts?: number;
  } {
    return {
      region, endpoint: this.endpoint, forcePathStyle: true, ...(maxAttempts ? { maxAttempts } : {}),
      credentials: { accessKeyId: creds?.AccessKeyId ?? '', secretAccessKey: creds?.SecretAccessKey ?? '', sessionToken: creds?.SessionToken ?? '' },
    };
  }

  /** The account of an access key (the default account for unknown keys). */
  accountOf(accessKeyId: string): string {
    return this.identities.keys.get(accessKeyId)?.account ?? this.defaultAccount;
  }

  /**
   * SDK client configuration for an account and region: `{ region, endpoint, credentials, forcePathStyle, maxAttempts? }`
   * with a static access key `AKIAEMU<account>` mapped to the account. Pass `maxAttempts: 1` to see errors unretried.
   */
  clientConfig(account: string, region: string, maxAttempts?: number): {
    region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string }; forcePathStyle: true; maxAttempts?: number;
  } {
    const accessKeyId = `AKIAEMU${account}`;
    if (!this.identities.keys.has(accessKeyId)) this.accountForAccessKey(accessKeyId, account);
    return { region, endpoint: this.endpoint, credentials: { accessKeyId, secretAccessKey: 'emulator-secret' }, forcePathStyle: true, ...(maxAttempts ? { maxAttempts } : {}) };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: Buffer = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requestId = randomUUID();
    const auth = String(req.headers.authorization ?? '');
    const cred = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth)
      ?? /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(url.searchParams.get('X-Amz-Credential') ?? '');
    const entry: RequestLogEntry = { service: cred?.[4] ?? '?', operation: '?', region: cred?.[3] ?? '?', account: '?', status: 0 };
    const model = cred ? this.models.get(cred[4] ?? '') : undefined;
    const send = (status: number, headers: Record<string, string>, payload: Buffer | string): void => {
      entry.status = status;
      this.requests.push(entry);
      res.writeHead(status, { 'x-amzn-RequestId': requestId, 'x-amz-request-id': requestId, 'Content-Length': String(Buffer.byteLength(payload)), ...headers });
      res.end(req.method === 'HEAD' ? undefined : payload);
    };
    if (!cred || !model) {
      send(cred ? 400 : 403, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': cred ? 'UnknownServiceException' : 'MissingAuthenticationTokenException' },
        JSON.stringify({ message: cred ? `Service ${cred[4] ?? ''} is not emulated` : 'Missing Authentication Token' }));
      return;
    }
    const service = cred[4] ?? '';
    const region = cred[3] ?? '';
    const accessKeyId = cred[1] ?? '';
    const account = this.accountOf(accessKeyId);
    entry.account = account;
    const sendError = (e: AwsError): void => this.sendError(model, service, e, send, requestId);
    try {
      // Which operation.
      let op: OperationInfo | undefined;
      let input: Json = {};
      const p = model.protocol;
      if (p === 'restJson1' || p === 'restXml') {
        const m = model.matchRoute(req.method ?? 'GET', url.pathname, url.searchParams);
        if (!m) throw new AwsError(p === 'restXml' ? 'MethodNotAllowed' : 'UnknownOperationException', `No operation of ${service} matches ${req.method ?? ''} ${url.pathname}`, p === 'restXml' ? 405 : 404);
        op = m.op;
        entry.operation = op.name;
        if (p === 'restJson1') {
          let parsed: unknown = undefined;
          if (body.length) {
            try { parsed = JSON.parse(body.toString('utf8')); } catch { throw new AwsError('SerializationException', 'The request body is not valid JSON', 400); }
          }
          input = model.inputFromHttp(op, m.labels, url.searchParams, req.headers, parsed);
        } else {
          const enc = String(req.headers['content-encoding'] ?? '');
          if (enc.includes('aws-chunked') || String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-')) body = decodeAwsChunked(body);
          input = model.inputFromHttp(op, m.labels, url.searchParams, req.headers, body);
        }
      } else if (p === 'awsJson1_0' || p === 'awsJson1_1') {
        const target = String(req.headers['x-amz-target'] ?? '');
        op = model.operations.get(target.split('.').pop() ?? '');
        if (!op) throw new AwsError('UnknownOperationException', `Unknown operation ${target}`, 400);
        entry.operation = op.name;
        let parsed: unknown = {};
        if (body.length) {
          try { parsed = JSON.parse(body.toString('utf8')); } catch { throw new AwsError('SerializationException', 'The request body is not valid JSON', 400); }
        }
        input = (op.input ? model.fromWire(op.input, parsed) : {}) as Json;
      } else {
        const form = new URLSearchParams(body.toString('utf8'));
        const action = form.get('Action') ?? url.searchParams.get('Action') ?? '';
        op = model.operations.get(action);
        if (!op) throw new AwsError('InvalidAction', `Could not find operation ${action} for version ${form.get('Version') ?? ''}`, 400);
        entry.operation = op.name;
        input = op.input ? queryInput(model, op.input, form, '') : {};
      }

      // Authentication: session token, expiry, opt-in regions (before any knob draw).
      const token = req.headers['x-amz-security-token'] ?? url.searchParams.get('X-Amz-Security-Token') ?? undefined;
      const authFailure = this.identities.authFailure(accessKeyId, account, region, Array.isArray(token) ? token[0] : token, new Date());
      if (authFailure) throw authFailure;

      // Knobs: latency, named faults, throttling, server errors (one PRNG draw each, in this order).
      if (this.knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, this.knobs.latencyMs));
      const conf = (service === 'securityhub' && op.name.endsWith('V2') ? SECURITY_HUB_V2_ERRORS : SERVICE_ERRORS[service]) ?? { validation: 'ValidationException', throttle: ['ThrottlingException', 400] as [string, number], server: ['InternalFailure', 500] as [string, number] };
      const fault = this.knobs.faults[`${service}:${op.name}`];
      if (fault === 'throttle') throw new AwsError(conf.throttle[0], 'Rate exceeded', conf.throttle[1]);
      if (fault === 'server') throw new AwsError(conf.server[0], 'Internal error', conf.server[1], 'Receiver');
      if (this.random() < this.knobs.throttleRate) throw new AwsError(conf.throttle[0], 'Rate exceeded', conf.throttle[1]);
      if (this.random() < this.knobs.serverErrorRate) {
        const unavailable = this.random() < 0.5;
        throw unavailable
          ? new AwsError(service === 's3' ? 'ServiceUnavailable' : 'ServiceUnavailableException', 'Service unavailable', 503, 'Receiver')
          : new AwsError(conf.server[0], 'Internal error', conf.server[1], 'Receiver');
      }

      const handler = this.handlers[service]?.[op.name];
      if (!handler) throw new AwsError(p === 'restXml' ? 'NotImplemented' : 'UnsupportedOperationException', `${service} ${op.name} is not emulated`, 501);
      if (!handler.selfValidate && op.input) {
        const problems = model.validate(op.input, input);
        if (problems.length) throw new AwsError(validationCode(service, conf.validation, problems), problemsMessage(problems), 400);
      }
      const ctx: CallContext = { account, region, partition: partitionOfRegion(region), accessKeyId, endpoint: this.endpoint, now: new Date(), model, knobs: this.knobs };
      const out = await handler.fn(ctx, input);
      if (isRaw(out)) { send(out.status, out.headers, out.body); return; }
      const wire = op.output ? model.toWire(op.output, out ?? {}) : {};
      if (p === 'awsQuery') {
        const ns = `https://${service}.amazonaws.com/doc/${model.version}/`;
        send(200, { 'Content-Type': 'text/xml' }, `<${op.name}Response xmlns="${ns}"><${op.name}Result>${toXml(out)}</${op.name}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${op.name}Response>`);
      } else if (p === 'restJson1') {
        send(op.http?.code ?? 200, { 'Content-Type': 'application/json' }, JSON.stringify(wire));
      } else if (p === 'restXml') {
        send(op.http?.code ?? 200, { 'Content-Type': 'application/xml' }, '');
      } else {
        send(200, { 'Content-Type': `application/x-amz-json-${p === 'awsJson1_0' ? '1.0' : '1.1'}` }, JSON.stringify(wire));
      }
    } catch (e) {
      if (e instanceof AwsError) sendError(e);
      else sendError(new AwsError((SERVICE_ERRORS[service]?.server ?? ['InternalFailure'])[0], `emulator failure: ${(e as Error).message}`, 500, 'Receiver'));
    }
  }

  private sendError(model: SmithyModel, service: string, e: AwsError, send: (status: number, headers: Record<string, string>, payload: string) => void, requestId: string): void {
    const shape = model.errorShapes().get(e.code);
    const status = e.status ?? shape?.httpStatus ?? (shape?.fault === 'server' ? 500 : 400);
    const fault = e.fault === 'Receiver' || shape?.fault === 'server' ? 'Receiver' : 'Sender';
    switch (model.protocol) {
      case 'restJson1':
        send(status, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': e.code }, JSON.stringify({ message: e.message, Message: e.message, Code: e.code }));
        return;
      case 'awsJson1_0':
      case 'awsJson1_1': {
        const headers: Record<string, string> = { 'Content-Type': `application/x-amz-json-${model.protocol === 'awsJson1_0' ? '1.0' : '1.1'}` };
        if (service === 'sqs') headers['x-amzn-query-error'] = `${shape?.queryCode ?? e.code};${fault}`;
        send(status, headers, JSON.stringify({ __type: `${model.namespace}#${e.code}`, message: e.message }));
        return;
      }
      case 'awsQuery': {
        const code = shape?.queryCode ?? e.code;
        send(status, { 'Content-Type': 'text/xml' }, `<ErrorResponse xmlns="https://${service}.amazonaws.com/doc/${model.version}/"><Error><Type>${fault}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
        return;
      }
      default:
        send(status, { 'Content-Type': 'application/xml' }, `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(e.message)}</Message><RequestId>${requestId}</RequestId></Error>`);
    }
  }
}

function isRaw(v: unknown): v is RawResponse {
  return typeof v === 'object' && v !== null && (v as { raw?: unknown }).raw === true;
}

/** CloudTrail answers some constraint violations with operation-specific exceptions (LookupEvents errors in the model). */
function validationCode(service: string, generic: string, problems: Problem[]): string {
  if (service === 'cloudtrail') {
    const first = problems[0]?.path ?? '';
    if (first.startsWith('MaxResults')) return 'InvalidMaxResultsException';
    if (first.startsWith('LookupAttributes')) return 'InvalidLookupAttributesException';
    if (first.startsWith('NextToken')) return 'InvalidNextTokenException';
    if (first.startsWith('EventCategory')) return 'InvalidEventCategoryException';
  }
  return generic;
}

/** Reads an awsQuery form (`Name=…`, `List.member.N=…`, `Struct.Member=…`, `Map.entry.N.key/value`) into a member-named object by the shape tree. */
function queryInput(model: SmithyModel, shapeId: string, form: URLSearchParams, prefix: string, depth = 0): Json {
  const out: Json = {};
  const shape = model.shape(shapeId);
  for (const [name, m] of Object.entries(shape?.members ?? {})) {
    const v = queryValue(model, m.target, form, prefix + name, depth);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function queryValue(model: SmithyModel, target: string, form: URLSearchParams, k: string, depth: number): unknown {
  if (depth > 10) return undefined;
  const t = model.typeOf(target);
  const shape = model.shape(target);
  if (t === 'structure') {
    const has = [...form.keys()].some((x) => x.startsWith(k + '.'));
    return has ? queryInput(model, target, form, k + '.', depth + 1) : undefined;
  }
  if (t === 'list' || t === 'set') {
    const items: unknown[] = [];
    for (let i = 1; ; i++) {
      const mt = shape?.member?.target ?? 'smithy.api#String';
      const v = queryValue(model, mt, form, `${k}.member.${i}`, depth + 1);
      if (v === undefined) break;
      items.push(v);
    }
    return items.length || form.has(k) ? items : undefined;
  }
  if (t === 'map') {
    const o: Json = {};
    for (let i = 1; form.has(`${k}.entry.${i}.key`); i++) {
      o[form.get(`${k}.entry.${i}.key`) ?? ''] = queryValue(model, shape?.value?.target ?? 'smithy.api#String', form, `${k}.entry.${i}.value`, depth + 1);
    }
    return Object.keys(o).length ? o : undefined;
  }
  const raw = form.get(k);
  if (raw === null) return undefined;
  if (t === 'boolean') return raw === 'true';
  if (['integer', 'long', 'short', 'byte', 'float', 'double'].includes(t)) return Number(raw);
  if (t === 'timestamp') return new Date(raw);
  return raw;
}
