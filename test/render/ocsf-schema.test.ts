/**
 * The OCSF 1.1.0 validator of test/support/ocsf-schema.ts: it resolves every class of the schema
 * in ../shared/schemas/ocsf-1.1.0 (or $TRAILSTORY_SHARED/schemas/ocsf-1.1.0), accepts a Detection
 * Finding written by hand from the schema, and rejects each kind of fault on its own: a missing
 * required attribute, a wrong type, an unknown attribute, an enum value out of range, a type_uid
 * of another activity, an object's constraint, a profile's required attribute.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadOcsfSchema, OcsfSchemaError, OcsfValidator, ocsfSchemaDir, type OcsfSchema } from '../support/ocsf-schema';

const DIR = ocsfSchemaDir();
const HAVE_SCHEMA = fs.existsSync(path.join(DIR, 'dictionary.json'));
if (!HAVE_SCHEMA) process.stdout.write(`OCSF schema not found at ${DIR}: skipping the OCSF validator tests\n`);
const describeSchema = HAVE_SCHEMA ? describe : describe.skip;

/** A Detection Finding written by hand from the 1.1.0 class and its objects: every required attribute, and some of each kind. */
function goodDetectionFinding(): Record<string, unknown> {
  return {
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2004,
    class_name: 'Detection Finding',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    severity_id: 4,
    severity: 'High',
    status_id: 1,
    status: 'New',
    time: 1795953600000,
    time_dt: '2026-11-29T12:00:00Z',
    message: 'a key used from a new address created a user',
    metadata: { version: '1.1.0', product: { name: 'example', vendor_name: 'Example Corp', version: '1.0' }, profiles: ['cloud'] },
    cloud: { provider: 'AWS', region: 'eu-west-1', account: { uid: '123456789012', type_id: 10, type: 'AWS Account' } },
    finding_info: {
      uid: 'finding-1',
      title: 'Suspicious user creation',
      first_seen_time: 1795950000000,
      attacks: [{ tactic: { uid: 'TA0003', name: 'Persistence' }, technique: { uid: 'T1136', name: 'Create Account' }, sub_technique: { uid: 'T1136.003', name: 'Cloud Account' } }],
      related_events: [{ uid: 'c38f1486-4677-4ab2-9a95-5e3742e4bedb', type_uid: 600301 }],
      src_url: 'https://example.com/report.html',
    },
    evidences: [
      {
        actor: { user: { uid: 'arn:aws:iam::123456789012:user/ci', credential_uid: 'AKIAEXAMPLE', account: { uid: '123456789012' } } },
        api: { operation: 'CreateUser', service: { name: 'iam.amazonaws.com' }, response: { error: 'AccessDenied' } },
        src_endpoint: { ip: '203.0.113.7' },
      },
    ],
    unmapped: { anything: { nested: [1, 'two', null] } },
  };
}

/** {@link goodDetectionFinding} with one change made by `edit` (which reaches into the event's JSON freely). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function changed(edit: (ev: Record<string, any>) => void): Record<string, unknown> {
  const ev = goodDetectionFinding();
  edit(ev);
  return ev;
}

describeSchema('the OCSF 1.1.0 schema, resolved', () => {
  let schema: OcsfSchema;
  let v: OcsfValidator;
  beforeAll(() => {
    schema = loadOcsfSchema(DIR);
    v = new OcsfValidator(schema);
  });

  test('every class under events/ resolves and compiles; the concrete ones have their class_uid', () => {
    const files = fs.readdirSync(path.join(DIR, 'events'), { recursive: true }).filter((f) => String(f).endsWith('.json'));
    expect(schema.classes.size).toBe(files.length);
    for (const c of schema.classes.values()) expect(typeof v.validatorOf(c.name)).toBe('function');
    expect(schema.byUid.get(2004)?.name).toBe('detection_finding');
    expect(schema.byUid.get(6003)?.name).toBe('api_activity');
    expect(schema.byUid.get(3002)?.name).toBe('authentication');
    expect(schema.classes.get('finding')?.classUid).toBeNull(); // abstract: no uid
    expect(schema.objects.size).toBe(fs.readdirSync(path.join(DIR, 'objects')).filter((f) => f.endsWith('.json')).length);
  });

  test('extends, $include and the dictionary merge as the schema server does', () => {
    const df = schema.classes.get('detection_finding')!;
    // activity_id: the dictionary's 0 and 99 and finding.json's 1-3
    expect(Object.keys(df.attributes.activity_id!.enum!).map(Number).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 99]);
    // time: required by includes/occurrence.json through base_event
    expect(df.attributes.time).toMatchObject({ type: 'timestamp_t', requirement: 'required' });
    // cloud: from profiles/cloud.json, required only under the profile
    expect(df.attributes.cloud).toMatchObject({ type: 'cloud', requirement: 'required', profile: 'cloud' });
    // the security_control profile of detection_finding.json
    expect(df.attributes.action_id).toMatchObject({ requirement: 'required', profile: 'security_control' });
    expect(df.attributes.evidences).toMatchObject({ type: 'evidences', isArray: true });
    // api_activity's "profile": null makes api its own, required attribute
    expect(schema.classes.get('api_activity')!.attributes.api).toEqual(expect.objectContaining({ requirement: 'required' }));
    expect(schema.classes.get('api_activity')!.attributes.api!.profile).toBeUndefined();
    // an object's own type over the dictionary's; constraints inherited, or removed by {}
    expect(schema.objects.get('user')!.attributes.name!.type).toBe('username_t');
    expect(schema.objects.get('product')!.constraints).toEqual({ at_least_one: ['name', 'uid'] });
    expect(schema.objects.get('file')!.constraints).toEqual({});
  });

  test('accepts a Detection Finding written by hand from the schema', () => {
    expect(v.problems(goodDetectionFinding())).toEqual([]);
  });

  test('rejects a missing required attribute', () => {
    expect(v.problems(changed((e) => delete e.finding_info.uid))).toContain("/finding_info: must have required property 'uid'");
    expect(v.problems(changed((e) => delete e.metadata.product.vendor_name))).toContain("/metadata/product: must have required property 'vendor_name'");
    expect(v.problems(changed((e) => delete e.severity_id))).toContain("/: must have required property 'severity_id'");
  });

  test('rejects a wrong type', () => {
    expect(v.problems(changed((e) => (e.time = '2026-11-29T12:00:00Z')))).toContain('/time: must be integer');
    expect(v.problems(changed((e) => (e.finding_info.title = 42)))).toContain('/finding_info/title: must be string');
    expect(v.problems(changed((e) => (e.evidences = e.evidences[0])))).toContain('/evidences: must be array');
    expect(v.problems(changed((e) => (e.evidences[0].src_endpoint.ip = 'ec2.amazonaws.com')))).toEqual([expect.stringMatching(/^\/evidences\/0\/src_endpoint\/ip: must match pattern/)]);
    expect(v.problems(changed((e) => (e.time_dt = 'yesterday')))).toEqual([expect.stringMatching(/^\/time_dt: must match pattern/)]);
  });

  test('rejects an attribute the class or object does not define, but not inside unmapped', () => {
    expect(v.problems(changed((e) => (e.lineage = ['arn:aws:iam::123456789012:user/ci'])))).toContain('/: must NOT have additional properties: "lineage"');
    expect(v.problems(changed((e) => (e.finding_info.attacks[0].tactic.id = 'TA0003')))).toContain('/finding_info/attacks/0/tactic: must NOT have additional properties: "id"');
    expect(v.problems(changed((e) => (e.unmapped.lineage = ['arn:aws:iam::123456789012:user/ci'])))).toEqual([]);
  });

  test('rejects an enum value out of range, and a class_uid, category_uid or type_uid of another class or activity', () => {
    expect(v.problems(changed((e) => (e.severity_id = 7)))).toContain('/severity_id: must be equal to one of the allowed values: [0,1,2,3,4,5,6,99]');
    expect(v.problems(changed((e) => (e.cloud.account.type_id = 11)))).toEqual([expect.stringMatching(/^\/cloud\/account\/type_id: must be equal to one of the allowed values/)]);
    expect(v.problems(changed((e) => (e.activity_id = 4)))).toContain('/activity_id: must be equal to one of the allowed values: [0,1,2,3,99]');
    expect(v.problems(changed((e) => (e.type_uid = 200404)))).toContain('/type_uid: must be equal to one of the allowed values: [200400,200401,200402,200403,200499]');
    expect(v.problems(changed((e) => (e.category_uid = 6)))).toContain('/category_uid: must be equal to constant');
    expect(v.problems(changed((e) => (e.class_uid = 2099)))).toEqual(['class_uid 2099 names no class of OCSF 1.1.0']);
  });

  test("rejects an object that breaks its constraint, and a profile's required attribute missing when the profile is applied", () => {
    expect(v.problems(changed((e) => (e.evidences = [{}])))).toContain("/evidences/0: must match a schema in anyOf");
    expect(v.problems(changed((e) => (e.finding_info.attacks = [{ version: '16' }])))).toContain('/finding_info/attacks/0: must match a schema in anyOf');
    expect(v.problems(changed((e) => delete e.cloud))).toContain("/: must have required property 'cloud'");
    // without the cloud profile named, cloud may be left out
    expect(v.problems(changed((e) => (delete e.cloud, (e.metadata.profiles = []))))).toEqual([]);
  });

  test('rejects a caption that is not its id\'s (the siblings), except beside 99 Other', () => {
    expect(v.problems(changed((e) => (e.activity_name = 'Update')))).toEqual(['/activity_name: is "Update", the caption is "Create"']);
    expect(v.problems(changed((e) => (e.severity = 'Low')))).toEqual(['/severity: is "Low", the caption is "High"']);
    expect(v.problems(changed((e) => (e.type_name = 'Detection Finding: Update')))).toEqual(['/type_name: is "Detection Finding: Update", the caption is "Detection Finding: Create"']);
    expect(v.problems(changed((e) => (e.class_name = 'Security Finding')))).toEqual(['/class_name: is "Security Finding", the caption is "Detection Finding"']);
    expect(v.problems(changed((e) => (e.cloud.account.type = 'AWS IAM User')))).toEqual(['/cloud/account/type: is "AWS IAM User", the caption is "AWS Account"']);
    expect(v.problems(changed((e) => ((e.severity_id = 99), (e.severity = 'Sev-2 by the vendor'))))).toEqual([]);
  });

  test('a schema whose class extends what does not exist is refused with the file named', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocsf-bad-'));
    try {
      for (const f of ['dictionary.json', 'categories.json', 'version.json']) fs.copyFileSync(path.join(DIR, f), path.join(tmp, f));
      fs.mkdirSync(path.join(tmp, 'events'));
      fs.mkdirSync(path.join(tmp, 'objects'));
      fs.writeFileSync(path.join(tmp, 'events', 'x.json'), JSON.stringify({ name: 'x', extends: 'nothing_here', attributes: {} }));
      expect(() => loadOcsfSchema(tmp)).toThrow(OcsfSchemaError);
      expect(() => loadOcsfSchema(tmp)).toThrow('class "nothing_here" is not defined (extended by x)');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
