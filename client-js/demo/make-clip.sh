#!/usr/bin/env bash
# Makes demo/clip.mp4: a 60 s test clip whose frames show their own media time in large
# digits (so sync between screens is visible to the eye), a sweep bar that makes a few
# milliseconds of offset visible, and a short beep at every whole second (audible sync).
# One keyframe per second keeps exact seeks cheap. The committed clip was made with this.
set -euo pipefail
cd "$(dirname "$0")"
FONT=${FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf}
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "color=c=0x101820:s=640x360:r=25:d=60" \
  -f lavfi -i "sine=f=880:r=48000:d=60" \
  -f lavfi -i "color=c=0xe0a030:s=16x40:r=25:d=60" \
  -filter_complex "\
[0:v][2:v]overlay=x='mod(t,1)*624':y=300,\
drawtext=fontfile=${FONT}:text='%{pts\:hms}':fontsize=72:fontcolor=white:x=(w-tw)/2:y=110,\
drawtext=fontfile=${FONT}:text='frame %{n}':fontsize=28:fontcolor=0x90a0b0:x=(w-tw)/2:y=210,\
drawtext=fontfile=${FONT}:text='Matinee test clip':fontsize=22:fontcolor=0x607080:x=(w-tw)/2:y=30[v];\
[1:a]volume='if(lt(mod(t,1),0.06),0.5,0)':eval=frame[a]" \
  -map "[v]" -map "[a]" \
  -c:v libx264 -preset veryslow -crf 30 -pix_fmt yuv420p -g 25 -keyint_min 25 -sc_threshold 0 \
  -c:a aac -b:a 24k -ac 1 \
  -movflags +faststart clip.mp4
ls -l clip.mp4
