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
// removed and content coding kept (no body for HEAD, 1xx, 204, 304). warcio's
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

// splitHead returns [headerText, bodyStart] of an HTTP message, or null.
function splitHead(block) {
  let end = indexOfSeq(block, "\r\n\r\n");
  let len = 4;
  const lf = indexOfSeq(block, "\n\n");
  if (end < 0 || (lf >= 0 && lf < end)) {
    end = lf;
    len = 2;
  }
  if (end < 0) return null;
  return [Buffer.from(block.subarray(0, end)).toString("latin1"), end + len];
}

// dechunk removes chunked framing; a cut-off body yields what arrived.
function dechunk(body) {
  const parts = [];
  let pos = 0;
  for (;;) {
    const eol = indexOfSeq(body, "\n", pos);
    if (eol < 0) break;
    const sizeLine = Buffer.from(body.subarray(pos, eol)).toString("latin1").replace(/\r$/, "").split(";")[0].trim();
    const size = parseInt(sizeLine, 16);
    if (!/^[0-9a-fA-F]+$/.test(sizeLine) || Number.isNaN(size)) break;
    pos = eol + 1;
    if (size === 0) break;
    parts.push(body.subarray(pos, Math.min(pos + size, body.length)));
    pos += size;
    if (pos >= body.length) break;
    if (body[pos] === 0x0d) pos++;
    if (body[pos] === 0x0a) pos++;
  }
  return Buffer.concat(parts);
}

// httpPayload returns the entity body of a raw response, per WARC 1.1.
function httpPayload(block, method) {
  let head = splitHead(block);
  if (!head) return null;
  let start = 0;
  // Skip interim 1xx responses (not 101).
  for (let i = 0; i < 16; i++) {
    const status = parseInt(head[0].split(/\r?\n/)[0].split(" ")[1], 10);
    if (status >= 100 && status < 200 && status !== 101) {
      start += head[1];
      const next = splitHead(block.subarray(start));
      if (!next) return null;
      head = next;
      continue;
    }
    break;
  }
  const lines = head[0].split(/\r?\n/);
  const status = parseInt(lines[0].split(" ")[1], 10);
  if (!/^HTTP\/1\.\d \d{3}/.test(lines[0])) return null;
  const headers = new Map();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    if (i < 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headers.set(k, headers.has(k) ? headers.get(k) + "," + v : v);
  }
  const body = block.subarray(start + head[1]);
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) return { status, payload: Buffer.alloc(0), headerLen: start + head[1] };
  const te = (headers.get("transfer-encoding") || "").toLowerCase().split(",").map((s) => s.trim()).filter(Boolean);
  if (te.length) {
    return { status, payload: te[te.length - 1] === "chunked" ? dechunk(body) : body, headerLen: start + head[1] };
  }
  const cl = headers.get("content-length");
  if (cl !== undefined && /^\d+$/.test(cl.split(",")[0].trim()) && cl.split(",").every((v) => v.trim() === cl.split(",")[0].trim())) {
    const n = parseInt(cl, 10);
    return { status, payload: body.subarray(0, Math.min(n, body.length)), headerLen: start + head[1] };
  }
  return { status, payload: body, headerLen: start + head[1] };
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
