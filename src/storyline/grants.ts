/**
 * What a privilege-escalation or credential step granted, read from the request and
 * response of its record (IAM API reference request parameters, as CloudTrail logs them:
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html).
 */
import type { Grant } from '../model/storyline';
import type { TrailEvent } from '../trail/event';

function s(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function doc(v: unknown): string | undefined {
  const t = s(v);
  if (!t) return v && typeof v === 'object' ? JSON.stringify(v) : undefined;
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

/** The grants of one step; empty for steps that grant nothing. Failed calls grant nothing. */
export function grantsOf(ev: TrailEvent): Grant[] {
  if (ev.errorCode) return [];
  const req = ev.requestParameters ?? {};
  const resp = ev.responseElements ?? {};
  const target = s(req.userName) ?? s(req.roleName) ?? s(req.groupName);
  switch (ev.eventName) {
    case 'AttachUserPolicy':
    case 'AttachRolePolicy':
    case 'AttachGroupPolicy':
      return [{ kind: 'managed-policy', target, value: s(req.policyArn) }];
    case 'PutUserPolicy':
    case 'PutRolePolicy':
    case 'PutGroupPolicy':
      return [{ kind: 'inline-policy', target, value: s(req.policyName), document: doc(req.policyDocument) }];
    case 'CreatePolicyVersion':
    case 'SetDefaultPolicyVersion':
      return [{ kind: 'policy-version', value: s(req.policyArn), document: doc(req.policyDocument) }];
    case 'AddUserToGroup':
      return [{ kind: 'group-membership', target: s(req.userName), value: s(req.groupName) }];
    case 'UpdateAssumeRolePolicy':
      return [{ kind: 'trust-policy', target: s(req.roleName), document: doc(req.policyDocument) }];
    case 'CreateRole':
      return [{ kind: 'trust-policy', target: s(req.roleName), document: doc(req.assumeRolePolicyDocument) }];
    case 'CreateAccessKey': {
      const ak = (resp.accessKey ?? {}) as Record<string, unknown>;
      return [{ kind: 'access-key', target: s(ak.userName) ?? s(req.userName), value: s(ak.accessKeyId) }];
    }
    case 'CreateLoginProfile':
    case 'UpdateLoginProfile':
      return [{ kind: 'login-profile', target: s(req.userName) }];
    case 'CreateUser':
      return [{ kind: 'user', value: s(req.userName) }];
    case 'AssumeRole':
    case 'AssumeRoleWithSAML':
    case 'AssumeRoleWithWebIdentity':
    case 'GetFederationToken':
    case 'GetSessionToken': {
      const creds = (resp.credentials ?? {}) as Record<string, unknown>;
      const aru = (resp.assumedRoleUser ?? resp.federatedUser ?? {}) as Record<string, unknown>;
      return [{ kind: 'session', target: s(req.roleArn), value: s(aru.arn) ?? s(creds.accessKeyId) }];
    }
    case 'RunInstances':
    case 'AssociateIamInstanceProfile': {
      const p = (req.iamInstanceProfile ?? {}) as Record<string, unknown>;
      const v = s(p.arn) ?? s(p.name);
      return v ? [{ kind: 'passed-role', value: v }] : [];
    }
    case 'CreateFunction20150331':
    case 'UpdateFunctionConfiguration20150331v2': {
      const v = s(req.role);
      return v ? [{ kind: 'passed-role', target: s(req.functionName), value: v }] : [];
    }
  }
  return [];
}
