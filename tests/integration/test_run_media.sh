# Media from files: read and base64-encoded when the request is built, the
# format taken from the content when the line gives none, and every limit
# checked before anything is sent. A stand-in endpoint keeps the exact
# bytes received.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/captured" "$WORK/jobs/media"
/usr/bin/python3 "$NB_SOURCE_DIR/tests/integration/capture_server.py" "$WORK/captured" >"$WORK/capture.out" 2>"$WORK/capture.err" &
MOCK_PID=$!
for _ in $(seq 1 500); do
	grep -q '^LISTENING ' "$WORK/capture.out" 2>/dev/null && break
	sleep 0.02
done
url="http://127.0.0.1:$(sed -n 's/^LISTENING //p' "$WORK/capture.out")"

# The examples' media, from a job file in another folder than the working one.
cp "$NB_SOURCE_DIR"/jobs/examples/media/* "$WORK/jobs/media/"
cp "$NB_SOURCE_DIR/jobs/examples/media.jsonl" "$NB_SOURCE_DIR/jobs/examples/tool-use.jsonl" "$WORK/jobs/"
cd /
run_nb run "$WORK/jobs/media.jsonl" "$WORK/jobs/tool-use.jsonl" --db "$WORK/m.db" --endpoint-url "$url" --no-progress --concurrency 1
cd - >/dev/null
expect_eq "media: exit" 0 "$RC"
expect_eq "media: all ok" "6|6" "$(sql "$WORK/m.db" "SELECT count(*), sum(status = 'ok') FROM jobs")"
# What comes back is kept: the tool call, the stop reason, cache tokens,
# the additional fields asked for and the trace.
expect_eq "the answer surface is stored" '6|tool_use|12|4|[{"text":"captured"},{"toolUse":{"toolUseId":"tooluse_9","name":"get_weather","input":{"city":"Paris"}}}]|{"stop_sequence":null,"router":{"model":"lite"}}|{"guardrail":{"action":"NONE"}}' \
	"$(sql "$WORK/m.db" "SELECT count(*), stop_reason, cache_read_tokens, cache_write_tokens, content, additional_fields, trace FROM jobs GROUP BY 2, 3, 4, 5, 6, 7")"
/usr/bin/python3 - "$WORK/captured" "$WORK/jobs/media" <<'PY' || fail "the bodies sent are not the lines with their files in"
import base64, glob, json, os, sys
cap, media = sys.argv[1], sys.argv[2]
sent = {}
for p in glob.glob(os.path.join(cap, "*.json")):
    r = json.load(open(p))
    sent[r["headers"]["X-Novabatch-Job"]] = json.loads(r["body"])
def raw(name):
    return base64.b64encode(open(os.path.join(media, name), "rb").read()).decode()
img = sent["image-sunset"]["messages"][0]["content"][0]["image"]
assert img == {"format": "png", "source": {"bytes": raw("sunset.png")}}, img
vid = sent["video-clip"]["messages"][0]["content"][0]["video"]
assert vid == {"format": "mp4", "source": {"bytes": raw("clip.mp4")}}, list(vid)
s3 = sent["video-s3"]["messages"][0]["content"][0]["video"]
assert s3 == {"format": "mp4", "source": {"s3Location": {"uri": "s3://demo-bucket/the-sea.mp4"}}}, s3
doc = sent["document-notes"]["messages"][0]["content"][0]["document"]
assert doc == {"format": "md", "name": "field-notes", "source": {"bytes": raw("field-notes.md")}}, doc
tool = sent["tool-result"]["messages"][2]["content"][0]["toolResult"]["content"][1]["image"]
assert tool == {"format": "png", "source": {"bytes": raw("sunset.png")}}, list(tool)
assert "toolConfig" in sent["tool-weather"]
assert not any("file" in json.dumps(b) and '"file":' in json.dumps(b) for b in sent.values())
PY

# Problems are found before anything is sent, each naming the block.
mk() { printf '{"id":"%s","modelId":"us.amazon.nova-lite-v1:0","messages":[{"role":"user","content":[%s,{"text":"hi"}]}]}\n' "$1" "$2"; }
head -c 4000000 /dev/urandom >"$WORK/jobs/media/big.png"
printf '\x89PNG\r\n\x1a\n' | cat - "$WORK/jobs/media/big.png" >"$WORK/jobs/media/huge.png"
cp "$WORK/jobs/media/field-notes.md" "$WORK/jobs/media/notes.pdf"
images=$(for i in $(seq 1 21); do printf '{"image":{"source":{"file":"media/sunset.png"}}},'; done)
{
	mk missing '{"image":{"source":{"file":"media/nope.png"}}}'
	mk huge '{"image":{"source":{"file":"media/huge.png"}}}'
	mk contradicts '{"image":{"format":"jpeg","source":{"file":"media/sunset.png"}}}'
	mk unknown '{"image":{"format":"bmp","source":{"file":"media/sunset.png"}}}'
	mk noname '{"document":{"source":{"file":"media/field-notes.md"}}}'
	mk notpdf '{"document":{"name":"n","format":"pdf","source":{"file":"media/notes.pdf"}}}'
	mk twovideos '{"video":{"source":{"file":"media/clip.mp4"}}},{"video":{"format":"mp4","source":{"s3Location":{"uri":"s3://b/v.mp4"}}}}'
	mk tooMany "${images%,}"
	mk noformat '{"image":{"source":{"bytes":"iVBORw0KGgo="}}}'
	mk bads3 '{"video":{"format":"mp4","source":{"s3Location":{"uri":"https://example.com/v.mp4"}}}}'
	mk good '{"image":{"source":{"file":"media/sunset.png"}}}'
} >"$WORK/jobs/bad.jsonl"
rm -f "$WORK"/captured/*
run_nb run "$WORK/jobs/bad.jsonl" --db "$WORK/bad.db" --endpoint-url "$url" --no-progress
expect_eq "bad media: exit" 1 "$RC"
expect_eq "bad media: each problem" "bads3|field 'messages[0].content[0].video.source.s3Location.uri': must be an s3:// URI
contradicts|field 'messages[0].content[0].image.format': 'jpeg', but $WORK/jobs/media/sunset.png holds png
huge|field 'messages[0].content[0].image.source.file': image of 4.00 MB; an image may be 3.75 MB at most
missing|field 'messages[0].content[0].image.source.file': $WORK/jobs/media/nope.png: No such file or directory
noformat|field 'messages[0].content[0].image.format': missing (one of png, jpeg, gif, webp); only a file source may leave it out
noname|field 'messages[0].content[0].document.name': missing; a document needs a name
notpdf|field 'messages[0].content[0].document.format': 'pdf', but $WORK/jobs/media/notes.pdf holds something else
tooMany|field 'messages[0].content[20].image': more than 20 images in one request
twovideos|field 'messages[0].content[1].video': more than 1 video in one request
unknown|field 'messages[0].content[0].image.format': 'bmp' is not an image format (png, jpeg, gif, webp)" \
	"$(sql "$WORK/bad.db" "SELECT job_id, substr(error_message, instr(error_message, 'field')) FROM jobs WHERE status = 'invalid' ORDER BY job_id")"
expect_eq "bad media: only the good line was sent" 1 "$(ls "$WORK/captured" | wc -l)"
run_nb validate "$WORK/jobs/bad.jsonl"
expect_eq "validate finds the same: exit" 1 "$RC"
expect_grep "validate finds the same: count" "^11 lines: 1 job to run, 10 invalid$" "$WORK/out"

kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
MOCK_PID=
