#!/usr/bin/env node
// warcio-check: an independent check of crawl's WARC files, built on
// webrecorder's warcio.js (the parser pywb's authors maintain), not on our Go
// code.
//
//   node check.mjs check FILE...   parse every record with warcio and verify it
//   node check.mjs cdxj FILE...    print warcio's own CDXJ index of the files
//
// `check` verifies, per record: the WARC/1.1 version line; mandatory fields
// (WARC-Record-ID as <urn:uuid:…>, WARC-Date in UTC with microseconds,
// WARC-Type, Content-Length equal to the block read); WARC-Target-URI without
// angle brackets; the block digest over the whole block; the payload digest.
// Per file: warcinfo first, every other record carries its WARC-Warcinfo-ID;
// every request has a response or revisit in the same file pointing back with
// WARC-Concurrent-To, and vice versa. Revisits must refer (WARC-Refers-To,
// when given) to a record of the checked files with the same payload digest.
//
// Payload digests are computed here as WARC 1.1 defines the payload of an
// application/http response: the entity body with chunked transfer coding
// removed and content coding kept (no body for HEAD, 1xx, 204, 304), framed
// as net/http frames it (see httpPayload, which also says what the payload
// of a malformed chunked body is). warcio's
// own `warcio check` digests the raw bytes after the HTTP headers, chunk
// framing included (webrecorder/warcio#74/#75), and would report false
// mismatches on spec-correct chunked records; that is why this tool de-chunks
// itself instead of asking warcio to verify.
//
// Exit status: 0 when everything holds, 1 with one line per problem on
// stderr otherwise, 2 on usage errors.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { WARCParser, CDXIndexer } from "warcio";

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(buf) {
  let bits = 0, value = 0, out = "";
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

function digest(label, data) {
  switch (label) {
    case "sha1":
      return "sha1:" + base32(crypto.createHash("sha1").update(data).digest());
    case "sha256":
      return "sha256:" + crypto.createHash("sha256").update(data).digest("hex");
    default:
      return null;
  }
}

function indexOfSeq(buf, seq, from = 0) {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf(seq, from);
}

// readLine returns [line without LF or CRLF, next position], or null when no
// LF follows (the bytes end inside the line).
function readLine(buf, pos) {
  const eol = indexOfSeq(buf, "\n", pos);
  if (eol < 0) return null;
  let end = eol;
  if (end > pos && buf[end - 1] === 0x0d) end--;
  return [Buffer.from(buf.subarray(pos, end)).toString("latin1"), eol + 1];
}

const MAX_HEAD = 1 << 20; // bytes of one head
const MAX_INTERIM = 16; // interim 1xx heads before the final one

// readHead reads one response head at pos: {major, minor, status, headers,
// end}, or null when the bytes do not hold a complete one. The status line is
// "HTTP/X.Y SSS reason" as net/http reads it; header lines end in LF or CRLF;
// a line without a colon is skipped.
function readHead(buf, pos) {
  const start = pos;
  let l = readLine(buf, pos);
  if (!l) return null;
  const m = /^HTTP\/(\d)\.(\d) +(\d{3})(?: |$)/.exec(l[0]);
  if (!m) return null;
  const head = { major: +m[1], minor: +m[2], status: +m[3], headers: [] };
  pos = l[1];
  for (;;) {
    l = readLine(buf, pos);
    if (!l || l[1] - start > MAX_HEAD) return null;
    pos = l[1];
    if (l[0] === "") break;
    const i = l[0].indexOf(":");
    if (i < 0) continue;
    head.headers.push([l[0].slice(0, i).trim().toLowerCase(), l[0].slice(i + 1).trim()]);
  }
  head.end = pos;
  return head;
}

// dechunk removes the chunked coding, by net/http's rules: chunk-size lines
// of 1 to 16 hex digits (extensions and trailing blanks allowed) ending in
// CRLF with no other CR, chunk data followed by CRLF, a trailer section
// ending in CRLF CRLF. It returns {payload, malformed}: a body cut short
// yields what was decoded; a malformed one is flagged.
function dechunk(body) {
  const parts = [];
  let pos = 0;
  const cut = () => ({ payload: Buffer.concat(parts), malformed: false });
  const bad = () => ({ payload: Buffer.concat(parts), malformed: true });
  for (;;) {
    const eol = indexOfSeq(body, "\n", pos);
    if (eol < 0) return cut();
    const line = Buffer.from(body.subarray(pos, eol)).toString("latin1");
    const cr = line.indexOf("\r");
    if (cr !== line.length - 1 || line.length - 1 >= 4096) return bad();
    const size = line.slice(0, -1).replace(/[ \t]+$/, "").split(";")[0];
    if (!/^[0-9a-fA-F]{1,16}$/.test(size)) return bad();
    pos = eol + 1;
    const n = BigInt("0x" + size);
    if (n === 0n) break;
    if (BigInt(body.length - pos) <= n) {
      parts.push(body.subarray(pos));
      return cut();
    }
    parts.push(body.subarray(pos, pos + Number(n)));
    pos += Number(n);
    if (pos < body.length && body[pos] !== 0x0d) return bad();
    if (pos + 1 < body.length && body[pos + 1] !== 0x0a) return bad();
    if (pos + 2 > body.length) return cut();
    pos += 2;
  }
  // The trailer section: lines up to an empty one; it must end in CRLF CRLF.
  let crlf = true;
  const trailerStart = pos;
  for (;;) {
    const eol = indexOfSeq(body, "\n", pos);
    if (eol >= 0 && eol + 1 - trailerStart > MAX_HEAD) return bad();
    if (eol < 0) return body.length - trailerStart > MAX_HEAD ? bad() : cut();
    const isCRLF = eol > pos && body[eol - 1] === 0x0d;
    const empty = eol === pos || (isCRLF && eol - 1 === pos);
    if (empty) return crlf && isCRLF ? { payload: Buffer.concat(parts), malformed: false } : bad();
    crlf = isCRLF;
    pos = eol + 1;
  }
}

// httpPayload returns the payload of a raw response as WARC 1.1 defines it
// (the entity body, chunked coding removed, content coding kept), or null
// when the block is not an HTTP response. The framing is net/http's: no body
// for HEAD, 1xx, 204 and 304; Transfer-Encoding only from HTTP/1.1 on (an
// HTTP/1.0 message's raw bytes are its body); then Content-Length (values
// that disagree make it unusable); then the rest of the bytes. A transfer
// coding other than chunked reads to the end. When the chunked coding is
// malformed, readers disagree on the payload past the bad point (net/http
// stops, warcio passes the rest through raw), so the payload is every byte
// after the head: what pywb digests for a response without a payload digest
// and what `warcio check` verifies.
function httpPayload(block, method) {
  let head = readHead(block, 0);
  for (let i = 0; head && head.status >= 100 && head.status < 200 && head.status !== 101; i++) {
    if (i >= MAX_INTERIM) return null;
    head = readHead(block, head.end);
  }
  if (!head) return null;
  const { status } = head;
  const body = block.subarray(head.end);
  const res = (payload) => ({ status, payload, headerLen: head.end });
  if (method === "HEAD" || (status >= 100 && status < 200) || status === 204 || status === 304) return res(Buffer.alloc(0));
  let te = null;
  const lengths = [];
  for (const [k, v] of head.headers) {
    if (k === "transfer-encoding") te = v.split(",").pop().trim().toLowerCase();
    if (k === "content-length") lengths.push(v);
  }
  if (te !== null && (head.major > 1 || (head.major === 1 && head.minor >= 1))) {
    if (te !== "chunked") return res(body);
    const d = dechunk(body);
    return res(d.malformed ? body : d.payload);
  }
  if (lengths.length && lengths.every((v) => /^\d+$/.test(v) && BigInt(v) === BigInt(lengths[0]))) {
    const n = BigInt(lengths[0]);
    return res(body.subarray(0, n < BigInt(body.length) ? Number(n) : body.length));
  }
  return res(body);
}

const DATE_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const ID_RE = /^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>$/;

async function readRecords(file) {
  const parser = new WARCParser(fs.createReadStream(file), { parseHttp: false, keepHeadersCase: true });
  const out = [];
  for await (const record of parser) {
    const block = Buffer.from(await record.readFully(false));
    out.push({ record, block, offset: parser.offset, version: record.warcHeaders.protocol });
  }
  return out;
}

async function check(files) {
  const problems = [];
  const byID = new Map();
  const perFile = [];
  for (const file of files) {
    let recs;
    try {
      recs = await readRecords(file);
    } catch (e) {
      problems.push(`${file}: warcio cannot parse: ${e.message}`);
      continue;
    }
    perFile.push({ file, recs });
    for (const r of recs) {
      const id = r.record.warcHeaders.headers.get("WARC-Record-ID");
      if (byID.has(id)) problems.push(`${file} @${r.offset}: WARC-Record-ID ${id} is not unique`);
      byID.set(id, r);
    }
  }
  let count = 0;
  for (const { file, recs } of perFile) {
    if (!recs.length) {
      problems.push(`${file}: no records`);
      continue;
    }
    const h0 = recs[0].record.warcHeaders.headers;
    if (h0.get("WARC-Type") !== "warcinfo") problems.push(`${file}: first record is ${h0.get("WARC-Type")}, not warcinfo`);
    const infoID = h0.get("WARC-Record-ID");
    const methodOf = new Map(); // request ID -> method
    for (const r of recs) {
      count++;
      const h = r.record.warcHeaders.headers;
      const type = h.get("WARC-Type");
      const id = h.get("WARC-Record-ID");
      const where = `${file} @${r.offset} ${type} ${h.get("WARC-Target-URI") || ""}`;
      if (r.version !== "WARC/1.1") problems.push(`${where}: version ${r.version}`);
      if (!ID_RE.test(id || "")) problems.push(`${where}: WARC-Record-ID ${id}`);
      if (!DATE_RE.test(h.get("WARC-Date") || "")) problems.push(`${where}: WARC-Date ${h.get("WARC-Date")} is not UTC with microseconds`);
      if (String(r.block.length) !== h.get("Content-Length")) problems.push(`${where}: Content-Length ${h.get("Content-Length")} but block has ${r.block.length} bytes`);
      const uri = h.get("WARC-Target-URI");
      if (uri && (uri.startsWith("<") || uri.endsWith(">"))) problems.push(`${where}: WARC-Target-URI in angle brackets`);
      if (type !== "warcinfo" && h.get("WARC-Warcinfo-ID") !== infoID) problems.push(`${where}: WARC-Warcinfo-ID ${h.get("WARC-Warcinfo-ID")} is not the file's warcinfo ${infoID}`);
      if (type === "request") methodOf.set(id, Buffer.from(r.block.subarray(0, 16)).toString("latin1").split(" ")[0]);

      const bd = h.get("WARC-Block-Digest");
      if (!bd) problems.push(`${where}: no WARC-Block-Digest`);
      else {
        const label = bd.split(":")[0];
        const got = digest(label, r.block);
        if (got !== bd) problems.push(`${where}: block digest ${bd}, computed ${got}`);
      }
      const pd = h.get("WARC-Payload-Digest");
      if (type === "response") {
        if (!pd) {
          // Optional in WARC 1.1, but crawl writes one for every HTTP response.
          if (httpPayload(r.block, "GET")) problems.push(`${where}: HTTP response without WARC-Payload-Digest`);
        } else {
          const req = h.get("WARC-Concurrent-To");
          const parsed = httpPayload(r.block, methodOf.get(req) || "GET");
          if (!parsed) problems.push(`${where}: response block is not HTTP`);
          else {
            const got = digest(pd.split(":")[0], parsed.payload);
            if (got !== pd) problems.push(`${where}: payload digest ${pd}, computed ${got} over ${parsed.payload.length} de-chunked bytes`);
          }
        }
      } else if (type === "resource" && pd) {
        const got = digest(pd.split(":")[0], r.block);
        if (got !== pd) problems.push(`${where}: payload digest ${pd}, computed ${got}`);
      } else if (type === "revisit") {
        if (!pd) problems.push(`${where}: revisit without WARC-Payload-Digest`);
        if (!h.get("WARC-Profile")) problems.push(`${where}: revisit without WARC-Profile`);
        if (r.block.length > 0 && h.get("WARC-Truncated") !== "length") problems.push(`${where}: revisit keeps headers but lacks WARC-Truncated: length`);
        if (!h.get("WARC-Refers-To-Target-URI") || !h.get("WARC-Refers-To-Date")) problems.push(`${where}: revisit lacks WARC-Refers-To-Target-URI/-Date`);
        const ref = h.get("WARC-Refers-To");
        if (ref && byID.has(ref)) {
          const orig = byID.get(ref).record.warcHeaders.headers;
          if (orig.get("WARC-Payload-Digest") !== pd) problems.push(`${where}: refers to ${ref} whose payload digest is ${orig.get("WARC-Payload-Digest")}, not ${pd}`);
          if (orig.get("WARC-Target-URI") !== h.get("WARC-Refers-To-Target-URI")) problems.push(`${where}: WARC-Refers-To-Target-URI does not match the original`);
          if (orig.get("WARC-Date") !== h.get("WARC-Refers-To-Date")) problems.push(`${where}: WARC-Refers-To-Date does not match the original`);
        }
      } else if (type === "metadata" && pd) {
        problems.push(`${where}: metadata with a payload digest`);
      }
    }
    // Pairs: request <-> response/revisit, in the same file, both ways.
    const inFile = new Map(recs.map((r) => [r.record.warcHeaders.headers.get("WARC-Record-ID"), r]));
    for (const r of recs) {
      const h = r.record.warcHeaders.headers;
      const type = h.get("WARC-Type");
      if (type !== "request" && type !== "response" && type !== "revisit") continue;
      const where = `${file} @${r.offset} ${type} ${h.get("WARC-Target-URI")}`;
      const other = inFile.get(h.get("WARC-Concurrent-To"));
      if (!other) {
        problems.push(`${where}: WARC-Concurrent-To ${h.get("WARC-Concurrent-To")} is not a record of this file`);
        continue;
      }
      const oh = other.record.warcHeaders.headers;
      const want = type === "request" ? ["response", "revisit"] : ["request"];
      if (!want.includes(oh.get("WARC-Type"))) problems.push(`${where}: concurrent record is a ${oh.get("WARC-Type")}`);
      if (oh.get("WARC-Concurrent-To") !== h.get("WARC-Record-ID")) problems.push(`${where}: its ${oh.get("WARC-Type")} does not point back`);
      if (oh.get("WARC-Date") !== h.get("WARC-Date")) problems.push(`${where}: pair has different WARC-Dates`);
      if (oh.get("WARC-Target-URI") !== h.get("WARC-Target-URI")) problems.push(`${where}: pair has different target URIs`);
    }
  }
  for (const p of problems) process.stderr.write(p + "\n");
  if (problems.length) {
    process.stderr.write(`warcio-check: ${problems.length} problem(s) in ${files.length} file(s)\n`);
    return 1;
  }
  process.stdout.write(`warcio-check: ${count} records in ${files.length} file(s) OK\n`);
  return 0;
}

async function cdxj(files) {
  const indexer = new CDXIndexer({ format: "cdxj" });
  const inputs = files.map((f) => ({ filename: path.basename(f), reader: fs.createReadStream(f) }));
  await indexer.writeAll(inputs, process.stdout);
  return 0;
}

const [cmd, ...files] = process.argv.slice(2);
if (!["check", "cdxj"].includes(cmd) || files.length === 0) {
  process.stderr.write("usage: node check.mjs check|cdxj FILE...\n");
  process.exit(2);
}
try {
  process.exitCode = cmd === "check" ? await check(files) : await cdxj(files);
} catch (e) {
  process.stderr.write(`warcio-check: ${e.stack || e}\n`);
  process.exitCode = 1;
}
