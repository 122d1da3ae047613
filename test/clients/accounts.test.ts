/**
 * AccountClients: the functions' own clients for their own account; one set per member account
 * and region, reused while it is among the most recently used, and a bounded number of them.
 */
import { makeClients } from '../../src/clients/all';
import { AccountClients, isAccessError } from '../../src/clients/accounts';

const own = makeClients({ endpoint: null }, 'us-east-1', { credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const access = { ownAccount: '111111111111', memberRoleName: 'TrailstoryMemberRole', externalId: 'x-1', partition: 'aws' };

test('own account: its own clients; a member: one set per account and region, reused', () => {
  const ac = new AccountClients({ endpoint: null }, own, access);
  expect(ac.for('111111111111', 'eu-west-1')).toBe(own);
  const a = ac.for('222222222222', 'eu-west-1');
  expect(ac.for('222222222222', 'eu-west-1')).toBe(a);
  expect(ac.for('222222222222', 'us-east-1')).not.toBe(a);
  expect(ac.roleArn('222222222222')).toBe('arn:aws:iam::222222222222:role/TrailstoryMemberRole');
});

test('bounded: beyond the limit the least recently used set is dropped, a recently used one kept', () => {
  const ac = new AccountClients({ endpoint: null }, own, access, undefined, {}, 2);
  const a = ac.for('200000000001', 'us-east-1');
  const b = ac.for('200000000002', 'us-east-1');
  expect(ac.for('200000000001', 'us-east-1')).toBe(a); // a is now the most recent
  ac.for('200000000003', 'us-east-1'); // drops b
  expect(ac.for('200000000001', 'us-east-1')).toBe(a);
  expect(ac.for('200000000002', 'us-east-1')).not.toBe(b);
});

test('isAccessError: what says the account or region cannot be reached, and what does not', () => {
  for (const name of ['AccessDenied', 'AccessDeniedException', 'RegionDisabledException', 'InvalidClientTokenId', 'UnrecognizedClientException', 'ExpiredTokenException', 'CredentialsProviderError']) {
    expect([name, isAccessError(Object.assign(new Error('x'), { name }))]).toEqual([name, true]);
  }
  for (const name of ['ThrottlingException', 'InternalServerError', 'ValidationException']) expect([name, isAccessError(Object.assign(new Error('x'), { name }))]).toEqual([name, false]);
});
