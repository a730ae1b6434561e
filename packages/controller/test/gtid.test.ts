import { describe, expect, it } from 'vitest';
import { compareGtid, errantTransactions, type GtidOrder, gtidContains, gtidMissing, type Holdings } from '../src/mysql/gtid.js';

// MySQL prints server UUIDs in lower case; the manual's examples (and some tools) use upper case.
const U1 = '3E11FA47-71CA-11E1-9E33-C80AA9429562';
const u1 = U1.toLowerCase();
const U2 = '4D8B564F-03F4-4975-856A-0E65C3105328';
const u2 = U2.toLowerCase();
const U3 = '7C7E8E8A-1B2C-11EE-8C3D-0242AC120002';

describe('compareGtid: MariaDB positions', () => {
  it.each<[string, string, string, GtidOrder]>([
    ['same position', '0-1-100', '0-1-100', 'equal'],
    ['both empty (a fresh server)', '', '', 'equal'],
    ['one ahead', '0-1-105', '0-1-100', 'ahead'],
    ['one behind', '0-1-100', '0-1-105', 'behind'],
    ['something against nothing', '0-1-5', '', 'ahead'],
    ['nothing against something', '', '0-1-5', 'behind'],
    // After a failover the new master writes under its own server id: its later seq holds the old one's.
    ['new master further on, after a failover', '0-2-101', '0-1-100', 'ahead'],
    // Same seq from two servers: two different transactions (each wrote its own seq 100).
    ['same seq, different server id', '0-1-100', '0-2-100', 'diverged'],
    ['multi-domain, equal', '0-1-5,1-2-7', '0-1-5,1-2-7', 'equal'],
    ['multi-domain, listed in another order', '1-2-7,0-1-5', '0-1-5,1-2-7', 'equal'],
    ['multi-domain, ahead in one domain only', '0-1-6,1-2-7', '0-1-5,1-2-7', 'ahead'],
    ['multi-domain, behind in one domain only', '0-1-5,1-2-7', '0-1-5,1-2-9', 'behind'],
    ['multi-domain, ahead in one and behind in the other', '0-1-6,1-2-7', '0-1-5,1-2-8', 'diverged'],
    ['a domain on the left only', '0-1-5,1-2-7', '0-1-5', 'ahead'],
    ['a domain on the right only', '0-1-5', '0-1-5,1-2-7', 'behind'],
    ['each has a domain the other lacks', '0-1-5,1-2-7', '0-1-5,2-3-1', 'diverged'],
    // gtid_binlog_state lists one GTID per (domain, server id): the highest seq is the position.
    ['several servers in one domain', '0-1-100,0-2-90', '0-1-100', 'equal'],
    ['spaces around the commas', ' 0-1-5 , 1-2-7 ', '0-1-5,1-2-7', 'equal'],
  ])('%s: %j vs %j is %s', (_name, a, b, expected) => {
    expect(compareGtid('mariadb', a, b)).toBe(expected);
  });
});

describe('compareGtid: MySQL GTID sets', () => {
  it.each<[string, string, string, GtidOrder]>([
    ['same set', `${U1}:1-5`, `${U1}:1-5`, 'equal'],
    ['both empty', '', '', 'equal'],
    ['one ahead', `${U1}:1-9`, `${U1}:1-5`, 'ahead'],
    ['one behind', `${U1}:1-5`, `${U1}:1-9`, 'behind'],
    ['something against nothing', `${U1}:1-5`, '', 'ahead'],
    ['nothing against something', '', `${U1}:1-5`, 'behind'],
    ['single numbers', `${U1}:7`, `${U1}:7`, 'equal'],
    ['a single number inside an interval', `${U1}:1-9`, `${U1}:7`, 'ahead'],
    ['a single number outside the intervals', `${U1}:1-5`, `${U1}:7`, 'diverged'],
    ['upper- and lower-case uuids are the same server', `${U1}:1-5`, `${u1}:1-5`, 'equal'],
    // A gap (6 missing) is a transaction one side has and the other lacks.
    ['multiple intervals with a gap, against the full range', `${U1}:1-5:7-9`, `${U1}:1-9`, 'behind'],
    ['multiple intervals against the same intervals', `${U1}:1-5:7-9`, `${U1}:1-5:7-9`, 'equal'],
    ['adjacent intervals cover the joined range', `${U1}:1-5:6-9`, `${U1}:1-9`, 'equal'],
    ['intervals out of order', `${U1}:7-9:1-5`, `${U1}:1-5:7-9`, 'equal'],
    ['the same uuid twice', `${U1}:1-5,${U1}:6-9`, `${U1}:1-9`, 'equal'],
    ['overlapping intervals', `${U1}:1-6:4-9`, `${U1}:1-9`, 'equal'],
    ['multiple uuids, equal', `${U1}:1-5,${U2}:1-3`, `${U2}:1-3,${U1}:1-5`, 'equal'],
    ['multiple uuids, ahead on one', `${U1}:1-6,${U2}:1-3`, `${U1}:1-5,${U2}:1-3`, 'ahead'],
    ['a uuid on the left only', `${U1}:1-5,${U2}:1-3`, `${U1}:1-5`, 'ahead'],
    ['a uuid on the right only', `${U1}:1-5`, `${U1}:1-5,${U2}:1-3`, 'behind'],
    // The errant-transaction case: a replica that was written to directly.
    ['each has a uuid the other lacks', `${U1}:1-5,${U2}:1`, `${U1}:1-5,${U3}:1`, 'diverged'],
    ['ahead on one uuid, behind on the other', `${U1}:1-6,${U2}:1-3`, `${U1}:1-5,${U2}:1-4`, 'diverged'],
    // SELECT @@GLOBAL.gtid_executed and SHOW REPLICA STATUS break long sets after each comma.
    ['as MySQL prints it, with newlines', `${u1}:1-5,\n${u2}:1-3`, `${U2}:1-3,${U1}:1-5`, 'equal'],
    ['with spaces and a trailing newline', ` ${u1}:1-5 ,\n ${u2}:1-3\n`, `${u1}:1-5,${u2}:1-3`, 'equal'],
  ])('%s: %j vs %j is %s', (_name, a, b, expected) => {
    expect(compareGtid('mysql', a, b)).toBe(expected);
  });
});

describe('gtidContains', () => {
  it.each<['mariadb' | 'mysql', string, string, boolean]>([
    ['mariadb', '0-1-100', '0-1-100', true],
    ['mariadb', '0-1-101', '0-1-100', true],
    ['mariadb', '0-1-100', '0-1-101', false],
    ['mariadb', '0-1-100', '0-2-100', false],
    ['mariadb', '0-1-5', '', true],
    ['mariadb', '', '0-1-5', false],
    ['mysql', `${U1}:1-9`, `${u1}:3-4`, true],
    ['mysql', `${U1}:1-5`, `${U1}:1-5`, true],
    ['mysql', `${U1}:1-5:7-9`, `${U1}:1-9`, false],
    ['mysql', `${U1}:1-5`, `${U1}:1-5,${U2}:1`, false],
    ['mysql', '', '', true],
  ])('%s: %j holds every transaction of %j: %s', (flavor, a, b, expected) => {
    expect(gtidContains(flavor, a, b)).toBe(expected);
  });
});

describe('gtidMissing', () => {
  it.each<['mariadb' | 'mysql', string, string, string]>([
    ['mariadb', '0-1-100', '0-1-100', ''],
    ['mariadb', '0-1-100', '0-1-105', ''],
    ['mariadb', '0-1-105', '0-1-100', 'domain 0 seq 101..105'],
    ['mariadb', '0-1-105', '', 'domain 0 seq 1..105'],
    ['mariadb', '0-1-5,1-2-7', '0-1-5', 'domain 1 seq 1..7'],
    ['mariadb', '0-1-6,1-2-9', '0-1-5,1-2-7', 'domain 0 seq 6..6, domain 1 seq 8..9'],
    ['mariadb', '0-2-101', '0-1-100', 'domain 0 seq 101..101'],
    ['mariadb', '0-1-100', '0-2-100', 'domain 0 seq 100 of server 1, not of server 2'],
    ['mysql', `${U1}:1-5`, `${U1}:1-5`, ''],
    ['mysql', `${U1}:1-5`, `${U1}:1-9`, ''],
    ['mysql', '', `${U1}:1-9`, ''],
    // Only the part the other side lacks, not the whole interval it partly holds.
    ['mysql', `${U1}:1-9`, `${U1}:1-5`, `${u1}:6-9`],
    ['mysql', `${U1}:1-9`, `${U1}:1-5:7`, `${u1}:6:8-9`],
    ['mysql', `${U1}:1-9`, `${U1}:3-4`, `${u1}:1-2:5-9`],
    ['mysql', `${U1}:7`, `${U1}:1-5`, `${u1}:7`],
    ['mysql', `${U1}:1-5:7-9`, '', `${u1}:1-5:7-9`],
    ['mysql', `${U1}:1-5,${U2}:1-3`, `${U1}:1-5`, `${u2}:1-3`],
    ['mysql', `${U1}:1-6,\n${U2}:1-4`, `${u1}:1-5,${u2}:1-3`, `${u1}:6,${u2}:4`],
    // Executed_Gtid_Set and Retrieved_Gtid_Set joined: they overlap, the answer does not repeat.
    ['mysql', `${U1}:1-100,${U1}:90-105`, `${U1}:1-95`, `${u1}:96-105`],
  ])('%s: %j lacks of %j: %j', (flavor, a, b, expected) => {
    // gtidMissing(a, b) is what `b` would need from `a`.
    expect(gtidMissing(flavor, a, b)).toBe(expected);
    // And it is empty exactly when `b` already holds all of `a`.
    expect(gtidMissing(flavor, a, b) === '').toBe(gtidContains(flavor, b, a));
  });
});

/** A MariaDB server with a binlog and log_slave_updates; `executed` is gtid_current_pos. */
const maria = (binlogState: string, executed: string, over: Partial<Holdings> = {}): Holdings =>
  ({ binlogState, executed, slavePos: '', logBin: true, logSlaveUpdates: true, ...over });
const NAMES = { mine: 'mysql1', master: 'mysql2' };
const NO_UPDATES = 'mysql2 has log_slave_updates=OFF (what it replicated is not in its binlog): a transaction it does hold may be listed';

describe('errantTransactions: what a rejoining server holds that the master lacks', () => {
  it.each<[string, Holdings, Holdings, string, string]>([
    // The user's report: the last seq of domain 0 (gtid_current_pos) called 0-1-54 contained in 0-2-69.
    ['an unreplicated tail overtaken by the new master', maria('0-1-54', '0-1-54'), maria('0-1-50,0-2-69', '0-2-69', { slavePos: '0-1-50' }), 'domain 0 server 1 seq 51..54', ''],
    ['a former master the new master has all of', maria('0-1-50', '0-1-50'), maria('0-1-50,0-2-69', '0-2-69'), '', ''],
    ['equal', maria('0-1-50,0-2-69', '0-2-69'), maria('0-1-50,0-2-69', '0-2-69'), '', ''],
    ['a fresh server', maria('', ''), maria('0-1-5', '0-1-5'), '', ''],
    ['same seq, another server', maria('0-1-100', '0-1-100'), maria('0-1-99,0-2-100', '0-2-100'), 'domain 0 server 1 seq 100..100', ''],
    ['ahead in the domain', maria('0-1-105', '0-1-105'), maria('0-1-100', '0-1-100'), 'domain 0 server 1 seq 101..105', ''],
    ['a write on a replica: a server the master never heard of', maria('0-1-50,0-3-51', '0-3-51'), maria('0-1-50,0-2-60', '0-2-60'), 'domain 0 server 3 seq 1..51', ''],
    ['several domains and servers, listed in order', maria('1-3-9,0-2-20,0-1-10', '0-2-20,1-3-9'), maria('0-1-8,0-2-18,1-3-9', '0-2-18,1-3-9'), 'domain 0 server 1 seq 9..10, domain 0 server 2 seq 19..20', ''],
    // The binlog lacks what the master replicated, but gtid_slave_pos still names the last of it.
    ['a master without log_slave_updates, its last applied GTID in gtid_slave_pos', maria('0-1-50', '0-1-50'), maria('0-2-69', '0-2-69', { slavePos: '0-1-50', logSlaveUpdates: false }), '', ''],
    ['a master without log_slave_updates, after two failovers: listed, and said why', maria('0-1-40', '0-1-40'), maria('0-2-69', '0-2-69', { slavePos: '0-3-60', logSlaveUpdates: false }), 'domain 0 server 1 seq 1..40', NO_UPDATES],
    ['a rejoiner without log_slave_updates: its replicated tail seen in gtid_slave_pos', maria('', '0-1-54', { slavePos: '0-1-54', logSlaveUpdates: false }), maria('0-1-50,0-2-69', '0-2-69'), 'domain 0 server 1 seq 51..54', 'mysql1 has log_slave_updates=OFF (what it replicated is not in its binlog): compared by what its binlog and GTID positions still show, so a transaction mysql2 lacks may go unseen'],
    ['a rejoiner without a binlog: gtid_binlog_state empty, gtid_current_pos compared', maria('', '0-2-60', { slavePos: '0-2-60', logBin: false, logSlaveUpdates: false }), maria('0-1-50,0-2-69', '0-2-69'), '', 'mysql1 has no binary log (log_bin=OFF): compared by what its binlog and GTID positions still show, so a transaction mysql2 lacks may go unseen'],
    ['a former master rebuilt and RESET MASTER: only its positions remain', maria('', '0-2-60', { slavePos: '0-2-60' }), maria('0-1-50,0-2-69', '0-2-69'), '', 'mysql1 has an empty binlog (RESET MASTER) although it executed transactions: compared by what its binlog and GTID positions still show, so a transaction mysql2 lacks may go unseen'],
  ])('%s', (_name, mine, master, errant, caveat) => {
    expect(errantTransactions('mariadb', mine, master, NAMES)).toEqual({ errant, caveat });
  });

  it('per domain alone, the overtaken tail looked contained: the reason for the comparison by server', () => {
    expect(gtidContains('mariadb', '0-2-69', '0-1-54')).toBe(true);
  });

  it('MySQL: gtid_executed is a set per server uuid already', () => {
    const mine = { executed: `${U1}:1-54` };
    expect(errantTransactions('mysql', mine, { executed: `${U1}:1-50,${U2}:1-19` }, NAMES)).toEqual({ errant: `${u1}:51-54`, caveat: '' });
    expect(errantTransactions('mysql', mine, { executed: `${U1}:1-54,${U2}:1-19` }, NAMES)).toEqual({ errant: '', caveat: '' });
  });

  it('a binlog state it cannot read throws', () => {
    expect(() => errantTransactions('mariadb', maria('0-1-5;0-2-6', '0-2-6'), maria('', ''), NAMES)).toThrow('not a MariaDB GTID position: "0-1-5;0-2-6"');
  });
});

describe('malformed input throws rather than guess', () => {
  it.each([
    ['a MySQL set', `${U1}:1-5`],
    ['two parts', '0-100'],
    ['letters', '0-1-abc'],
    ['a negative number', '0-1--5'],
    ['a semicolon separator', '0-1-5;1-2-7'],
    ['junk', 'garbage'],
  ])('MariaDB: %s (%j)', (_name, bad) => {
    expect(() => compareGtid('mariadb', bad, '0-1-5')).toThrow(`not a MariaDB GTID position: "${bad}"`);
    expect(() => compareGtid('mariadb', '0-1-5', bad)).toThrow('not a MariaDB GTID position');
    expect(() => gtidContains('mariadb', bad, '')).toThrow('not a MariaDB GTID position');
    expect(() => gtidMissing('mariadb', '', bad)).toThrow('not a MariaDB GTID position');
  });

  it.each([
    ['a MariaDB position', '0-1-100'],
    ['a uuid without intervals', U1],
    ['an empty interval', `${U1}:`],
    ['an open interval', `${U1}:1-`],
    ['letters in an interval', `${U1}:1-x`],
    ['a backwards interval', `${U1}:5-3`],
    ['transaction number 0', `${U1}:0-5`],
    ['a uuid too short', '3E11FA47-71CA-11E1-9E33:1-5'],
    ['not a uuid', 'server1:1-5'],
    ['intervals without a uuid', ':1-5'],
  ])('MySQL: %s (%j)', (_name, bad) => {
    expect(() => compareGtid('mysql', bad, `${U1}:1`)).toThrow(`not a MySQL GTID set: "${bad}"`);
    expect(() => compareGtid('mysql', `${U1}:1`, bad)).toThrow('not a MySQL GTID set');
    expect(() => gtidContains('mysql', bad, '')).toThrow('not a MySQL GTID set');
    expect(() => gtidMissing('mysql', '', bad)).toThrow('not a MySQL GTID set');
  });
});
