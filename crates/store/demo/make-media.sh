#!/usr/bin/env bash
# make-media.sh — regenerate the Marquee demo catalogue media.
#
# What it makes (into ./media/ next to this script):
#   * eight short video titles, WebM (VP9 video + Opus audio, 24 fps, 32–36 s,
#     keyframe every 2 s), built purely from synthetic ffmpeg lavfi sources
#     (gradients / life / cellauto / mandelbrot / geq) with drawtext overlays
#     (title card, lower third, running timecode) and aevalsrc music:
#       neon-harbor, midnight-circuit          new-release films, 1280x720
#       the-quiet-orchard                      library film,       854x480
#       orbital-s01e01, orbital-s01e02         series "Orbital",   1280x720
#       glass-rain                             music video (Lumen Drive), 1280x720
#       open-skies (1280x720), paper-boats (854x480)  free CC BY 4.0 shorts
#   * a 480x720 poster <slug>.jpg and a 1280x540 hero backdrop
#     <slug>-backdrop.jpg for every title (frame of the video + gradient + type)
#   * pixel-drift.zip — a real, playable HTML5 canvas game (deterministic zip:
#     fixed mtimes, zip -X) and its poster pixel-drift.jpg
#   and finally verifies every video with ffprobe (vp9 + opus, >= 30 s, size).
#
# The app never needs ffmpeg at run time: the outputs in media/ are committed
# and this script only exists to regenerate them. It is idempotent (every
# output is overwritten from scratch; nothing is appended).
#
# Dependencies (build-time only): bash, ffmpeg + ffprobe (with libvpx-vp9,
# libopus, libfreetype/drawtext), ImageMagick 6 `convert`, `zip`
# (apt-get install zip), DejaVu fonts (/usr/share/fonts/truetype/dejavu).
#
# Usage: crates/store/demo/make-media.sh            # everything
#        ONLY="neon-harbor glass-rain" make-media.sh # just some titles (+checks)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/media"
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

for tool in ffmpeg ffprobe convert zip; do
  command -v "$tool" >/dev/null || { echo "missing dependency: $tool" >&2; exit 1; }
done

FONTDIR=/usr/share/fonts/truetype/dejavu
SANS="$FONTDIR/DejaVuSans.ttf"
SANSB="$FONTDIR/DejaVuSans-Bold.ttf"
SANSL="$FONTDIR/DejaVuSans-ExtraLight.ttf"
SERIFB="$FONTDIR/DejaVuSerif-Bold.ttf"
CONDB="$FONTDIR/DejaVuSansCondensed-Bold.ttf"
MONO="$FONTDIR/DejaVuSansMono.ttf"
FPS=24
ONLY="${ONLY:-}"
want() { [[ -z "$ONLY" || " $ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------- audio ----
# pad L "f f f|f f f|..." detune  -> aevalsrc expression for a slow chord pad:
# each chord lasts L seconds with a soft swell; every note is two slightly
# detuned sines (+ a quiet octave) and the root gets a sub-bass an octave down.
pad() {
  local L=$1 prog=$2 det=$3
  local -a CH; IFS='|' read -ra CH <<<"$prog"
  local n=${#CH[@]}
  local c="mod(floor(t/$L),$n)"
  local -a first; read -ra first <<<"${CH[0]}"
  local nv=${#first[@]} v i expr="" f
  for ((v = 0; v < nv; v++)); do
    f="0"
    for ((i = n - 1; i >= 0; i--)); do
      local -a notes; read -ra notes <<<"${CH[$i]}"
      f="if(eq($c,$i),${notes[$v]},$f)"
    done
    expr+="+sin(2*PI*($f)*t)+0.6*sin(2*PI*($f)*$det*t)+0.12*sin(4*PI*($f)*t)"
    if ((v == 0)); then expr+="+0.9*sin(PI*($f)*t)"; fi
  done
  local m="mod(t,$L)"
  echo "0.07*min(1,$m/1.2)*min(1,($L-$m)/1.5)*(${expr#+})"
}

# --------------------------------------------------------------- encode ----
# encode slug WxH seconds "<video graph ending in [bg]>" "<audio expr L|R>" \
#        "Title" "KIND LINE" vbitrate abitrate
encode() {
  local slug=$1 size=$2 dur=$3 vgraph=$4 aexpr=$5 title=$6 kind=$7 vb=$8 ab=$9
  local w=${size%x*} h=${size#*x}
  local big=$((h / 9)) small=$((h / 30)) pad=$((h / 18))
  local fo; fo=$(awk "BEGIN{print $dur-1.5}")
  echo ">> $slug.webm ($size, ${dur}s)"
  local text="
  [bg]fade=t=in:st=0:d=1.2,fade=t=out:st=$fo:d=1.5,
  drawtext=fontfile=$CONDB:text='$kind':fontsize=$small:fontcolor=white@0.85:x=(w-tw)/2:y=h/2-$big:alpha='if(lt(t,0.8),0,if(lt(t,1.8),t-0.8,if(lt(t,4.5),1,if(lt(t,5.5),5.5-t,0))))',
  drawtext=fontfile=$SERIFB:text='$title':fontsize=$big:fontcolor=white:shadowcolor=black@0.6:shadowx=2:shadowy=2:x=(w-tw)/2:y=(h-th)/2+$small:alpha='if(lt(t,1),0,if(lt(t,2),t-1,if(lt(t,4.5),1,if(lt(t,5.5),5.5-t,0))))',
  drawtext=fontfile=$SANSB:text='$title':fontsize=$small:fontcolor=white@0.8:shadowcolor=black@0.7:shadowx=1:shadowy=1:x=$pad:y=h-$pad-th:enable='gte(t,5.5)',
  drawtext=fontfile=$MONO:text='%{pts\:hms}':fontsize=$small:fontcolor=white@0.7:shadowcolor=black@0.7:shadowx=1:shadowy=1:x=w-$pad-tw:y=h-$pad-th,
  format=yuv420p[v];
  aevalsrc=exprs='$aexpr':s=48000:d=$dur,highpass=f=35,lowpass=f=7000,
  aecho=0.8:0.6:90|170:0.25|0.18,afade=t=in:st=0:d=1.5,afade=t=out:st=$fo:d=1.5,
  alimiter=limit=0.9[a]"
  if [[ -n "${PREVIEW:-}" ]]; then   # dev aid: PREVIEW=<sec> renders one PNG frame
    ffmpeg -hide_banner -loglevel error -y -filter_complex "$vgraph;$text" \
      -map '[v]' -ss "$PREVIEW" -frames:v 1 -update 1 "$PREVIEW_DIR/$slug.png" -map '[a]' -t 1 -f null -
    return
  fi
  ffmpeg -hide_banner -loglevel error -y -filter_complex "$vgraph;$text" \
    -map '[v]' -map '[a]' -t "$dur" -r $FPS \
    -c:v libvpx-vp9 -b:v "$vb" -g 48 -keyint_min 48 \
    -deadline good -cpu-used 5 -row-mt 1 -tile-columns 1 -threads 2 \
    -c:a libopus -b:a "$ab" -ac 2 -ar 48000 \
    -metadata title="$title" -metadata:s:v:0 handler_name= \
    "$OUT/$slug.webm"
}

# Hash helpers for geq (deterministic pseudo-random per cell).
fr() { echo "(($1)-floor($1))"; }                          # fractional part
hash2() { fr "sin(($1)*12.9898+($2)*78.233)*43758.5453"; } # [0,1)

# still name WxH "geq args" — render a static RGBA layer once (geq is slow);
# graphs then loop it with movie=...:loop=0.
still() {
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "color=black:s=$2:r=1" \
    -vf "format=rgba,geq=$3" -frames:v 1 "$TMP/$1.png"
}
layer() { echo "movie=$TMP/$1.png:loop=0,setpts=N/($FPS*TB),format=rgba"; }

# ------------------------------------------------------------- titles ------
# Neon Harbor — a neon city skyline at night over dark water.
if want neon-harbor; then
  H=500
  B="max(120+170*abs(sin(floor(X/53)*12.9898+0.7)),60+110*abs(sin(floor((X+17)/31)*78.233+2.1)))"
  IN="gt(Y,$H-($B))*lt(Y,$H)"
  HS=$(hash2 "floor(X/9)" "floor(Y/13)")
  WIN="lt(mod(X,9),4)*lt(mod(Y,13),6)*gt($HS,0.80)*gt(Y,$H-($B)+8)"
  PINK="gt($HS,0.95)"
  still city 1280x720 "r='$IN*(10+$WIN*(245))':g='$IN*(6+$WIN*(190-150*$PINK))':b='$IN*(22+$WIN*(100+80*$PINK))':a='255*$IN'"
  neon_v="
  gradients=s=1280x720:r=$FPS:c0=0x07021a:c1=0x3a0b5e:c2=0xd81b60:c3=0x00b8d4:n=4:type=radial:speed=0.02:seed=11,format=gbrp[g];
  life=s=256x144:r=$FPS:ratio=0.06:seed=5:death_color=black:life_color=0xff4fd8:mold=25:mold_color=0x1a0830,scale=1280x720:flags=bicubic,gblur=sigma=10,format=gbrp[l];
  [g][l]blend=all_mode=screen,format=rgba[sky];
  $(layer city)[city];
  [sky][city]overlay=format=auto:shortest=1,format=rgb24,split[top][m];
  [m]crop=1280:220:0:$((H-220)),vflip,gblur=sigma=9:sigmaV=1.5,colorchannelmixer=rr=0.6:gg=0.55:bb=0.75[refl];
  [top][refl]overlay=0:$H,vignette=PI/4.5[bg]"
  P="110 130.81 164.81 196|87.31 130.81 174.61 220|98 146.83 196 246.94|82.41 123.47 164.81 207.65"
  encode neon-harbor 1280x720 34 "$neon_v" "$(pad 4 "$P" 1.003)|$(pad 4 "$P" 0.997)" \
    "Neon Harbor" "HALCYON PICTURES PRESENTS" 450k 64k
fi
