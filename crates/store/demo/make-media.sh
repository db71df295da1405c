#!/usr/bin/env bash
# make-media.sh — regenerate the Marquee demo catalogue media.
#
# What it makes (into ./media/ next to this script):
#   * eight short video titles, WebM (VP9 video + Opus audio, 24 fps, 32–36 s,
#     keyframe every 2 s, every 1 s for glass-rain, the live demo), built purely from synthetic ffmpeg lavfi sources
#     (gradients / life / cellauto / mandelbrot / geq) with drawtext overlays
#     (title card, lower third, running timecode) and aevalsrc music:
#       neon-harbor, midnight-circuit          new-release films, 1280x720
#       the-quiet-orchard                      library film,       854x480
#       orbital-s01e01, orbital-s01e02         series "Orbital",   1280x720
#       glass-rain                             music video (Lumen Drive), 1280x720
#       open-skies (1280x720), paper-boats (854x480)  free CC BY 4.0 shorts
#       neon-harbor-sd, orbital-s01e01-sd      the same works in SD, 854x480,
#                                              encoded from their HD videos
#   * a 480x720 poster <slug>.jpg and a 1280x540 hero backdrop
#     <slug>-backdrop.jpg for every title (frame of the video + gradient + type)
#   * pixel-drift.zip — a real, playable HTML5 canvas game zipped from the
#     sources in ./pixel-drift/ (deterministic zip: fixed mtimes, zip -X -D)
#     and its poster pixel-drift.jpg (drawn with ImageMagick)
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
#        ONLY="neon-harbor glass-rain" make-media.sh # re-encode just these videos
#        ONLY=none make-media.sh                    # only posters, zip and checks
#        PREVIEW=8 PREVIEW_DIR=/tmp make-media.sh   # dev aid: one PNG per video at 8 s
# Takes ~7 min on 2 busy cores. Exits non-zero if any check fails.
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
  alimiter=limit=0.9,asetnsamples=n=960:p=0[a]"
  if [[ -n "${PREVIEW:-}" ]]; then   # dev aid: PREVIEW=<sec> renders one PNG frame
    ffmpeg -nostdin -hide_banner -loglevel ${LOGLEVEL:-error} -y -filter_complex "$vgraph;$text;[a]anullsink" \
      -map '[v]' -ss "$PREVIEW" -frames:v 1 -update 1 "$PREVIEW_DIR/$slug.png"
    return
  fi
  ffmpeg -nostdin -hide_banner -loglevel ${LOGLEVEL:-error} -y -filter_complex "$vgraph;$text" \
    -map '[v]' -map '[a]' -t "$dur" -r $FPS \
    -c:v libvpx-vp9 -b:v "$vb" -g "${GOP:-48}" -keyint_min "${GOP:-48}" \
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
  ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "color=black:s=$2:r=1" \
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
    "Neon Harbor" "HALCYON PICTURES PRESENTS" 340k 64k
fi

# Midnight Circuit — night-race light trails streaking past a dark city.
if want midnight-circuit; then
  # streak texture: sparse random dashes, horizontally stretched
  HB="(40+70*abs(sin(floor(X/41)*12.9898+1.1))+25*abs(sin(floor(X/17)*7.13)))"
  SK="gt(Y,330-$HB)*lt(Y,332)"
  HS=$(hash2 "floor(X/7)" "floor(Y/9)")
  LW="lt(mod(X,7),3)*lt(mod(Y,9),4)*gt($HS,0.86)*gt(Y,336-$HB)"
  still skyline 1280x720 "r='$SK*(8+$LW*230)':g='$SK*(10+$LW*150)':b='$SK*(20+$LW*80)':a='255*$SK'"
  mc_v="
  gradients=s=1280x720:r=$FPS:c0=0x02030a:c1=0x1a2a5a:c2=0x4a1030:n=3:speed=0.005:seed=3,format=gbrp[g];
  nullsrc=s=40x720:r=$FPS,geq=lum='255*gt(random(1)*between(Y,330,600),0.992)':cb=128:cr=128,format=gray,
    scale=1280x720:flags=bilinear,gblur=sigma=2:sigmaV=0.7,lagfun=decay=0.9,scroll=h=0.018,
    format=gbrp,colorchannelmixer=rr=1:gr=0.35:br=0.15:rg=0:gg=0.25:bg=0.1:rb=0:gb=0.1:bb=0.1[red];
  nullsrc=s=40x720:r=$FPS,geq=lum='255*gt(random(2)*between(Y,420,700),0.993)':cb=128:cr=128,format=gray,
    scale=1280x720:flags=bilinear,gblur=sigma=2:sigmaV=0.7,scroll=h=-0.03,
    format=gbrp,colorchannelmixer=rr=1:gr=0.95:br=0.7:rg=0:gg=0.9:bg=0.6:rb=0:gb=0.8:bb=0.9[white];
  [red][white]blend=all_mode=screen,split[tr][glow0];[glow0]gblur=sigma=14[glow];
  [tr][glow]blend=all_mode=screen[lights];
  [g][lights]blend=all_mode=screen,eq=brightness=0.03:contrast=1.25:saturation=1.4,format=rgba[road];
  $(layer skyline)[sk];[road][sk]overlay=format=auto:shortest=1,vignette=PI/4[bg]"
  P="98 116.54 146.83 174.61|87.31 103.83 130.81 155.56|77.78 98 116.54 155.56|92.5 116.54 138.59 185"
  encode midnight-circuit 1280x720 36 "$mc_v" "$(pad 3 "$P" 1.004)|$(pad 3 "$P" 0.996)" \
    "Midnight Circuit" "REDLINE FILMWORKS PRESENTS" 450k 64k
fi

# The Quiet Orchard — rows of trees against a slow golden-hour sky.
if want the-quiet-orchard; then
  CX="(floor(X/120)*120+60)"
  R="(46+10*sin(floor(X/120)*3.7))"
  CAN="lt(hypot(X-$CX,Y-300),$R)+lt(hypot(X-$CX+22,Y-322),$R*0.75)+lt(hypot(X-$CX-24,Y-325),$R*0.7)"
  TRUNK="lt(abs(X-$CX),5)*between(Y,320,420)"
  GROUND="gt(Y,405+6*sin(X/90))"
  T="gt($CAN+$TRUNK+$GROUND,0)"
  still orchard 854x480 "r='22*$T':g='28*$T':b='14*$T':a='255*$T'"
  qo_v="
  gradients=s=854x480:r=$FPS:c0=0xf6d68a:c1=0xe89a3c:c2=0x8a4b2a:c3=0x3d2a4a:n=4:x0=427:y0=0:x1=427:y1=420:speed=0.00001,format=gbrp[sky];
  life=s=214x120:r=$FPS:ratio=0.05:seed=9:death_color=black:life_color=0xfff0b0:mold=40:mold_color=0x302010,scale=854x480,gblur=sigma=7,format=gbrp[bokeh];
  [sky][bokeh]blend=all_mode=screen:all_opacity=0.55,format=rgba[s2];
  $(layer orchard)[trees];
  [s2][trees]overlay=format=auto:shortest=1,zoompan=z='1+0.0004*on':d=1:s=854x480:fps=$FPS,vignette=PI/4,format=gbrp[bg]"
  P="130.81 164.81 196 246.94|110 130.81 164.81 196|87.31 130.81 174.61 220|98 123.47 146.83 196"
  encode the-quiet-orchard 854x480 35 "$qo_v" "$(pad 5 "$P" 1.002)|$(pad 5 "$P" 0.998)" \
    "The Quiet Orchard" "FERNWOOD FILMS PRESENTS" 280k 64k
fi

# Orbital — deep-space fractal zooms, one palette per episode.
orbital() { # slug x y colour-mix episode-label
  or_v="
  mandelbrot=s=640x360:r=$FPS:maxiter=220:start_x=$2:start_y=$3:start_scale=2.5:end_scale=0.01:end_pts=900:outer=normalized_iteration_count,
  scale=1280x720:flags=bicubic,format=gbrp,colorchannelmixer=$4,eq=saturation=1.15:gamma=0.9,vignette=PI/3.5[bg]"
  P="73.42 110 146.83 174.61|65.41 98 130.81 164.81|58.27 87.31 116.54 146.83|61.74 92.5 123.47 185"
  encode "$1" 1280x720 "$6" "$or_v" "$(pad 4.5 "$P" 1.003)|$(pad 4.5 "$P" 0.997)" \
    "Orbital" "$5" 450k 64k
}
if want orbital-s01e01; then
  orbital orbital-s01e01 -0.743643887037158 0.131825904205312 \
    "rr=0.25:rg=0.1:rb=0.1:gr=0.2:gg=0.6:gb=0.3:br=0.3:bg=0.5:bb=1" "SEASON 1 · EPISODE 1 · FIRST LIGHT" 33
fi
if want orbital-s01e02; then
  orbital orbital-s01e02 -0.1010963638456221 0.9562865108091415 \
    "rr=1:rg=0.3:rb=0.1:gr=0.3:gg=0.5:gb=0.1:br=0.4:bg=0.2:bb=0.7" "SEASON 1 · EPISODE 2 · DEAD RECKONING" 35
fi

# Glass Rain — Lumen Drive music video: falling automaton "rain" pulsing to
# a 120 BPM beat over a rotating spiral gradient.
if want glass-rain; then
  gr_v="
  gradients=s=1280x720:r=$FPS:c0=0x0a0018:c1=0x3a0080:c2=0x0088cc:c3=0xc0206a:n=4:type=spiral:speed=0.03:seed=4,format=gbrp,
    hue=h=40*t[g];
  cellauto=s=256x144:r=$FPS:rule=18:random_fill_ratio=0.03:seed=2:scroll=1,vflip,
    scale=1280x720:flags=neighbor,gblur=sigma=1.5,lagfun=decay=0.93,format=gbrp,
    colorchannelmixer=rr=0.6:gg=0.85:bb=1[rain];
  [g][rain]blend=all_mode=screen:all_opacity=0.7,eq=brightness='0.10*exp(-mod(t,0.5)*7)':eval=frame,vignette=PI/4[bg]"
  # 120 BPM: kick on the beat, hat on the off-beat, bass 8ths, 16th arpeggio,
  # pad; chords change every bar (2 s): Fm - Db - Ab - Eb.
  c="mod(floor(t/2),4)"
  sel() { echo "if(eq($c,0),$1,if(eq($c,1),$2,if(eq($c,2),$3,$4)))"; }
  ROOT=$(sel 87.31 69.30 103.83 77.78)
  N1=$(sel 349.23 277.18 415.30 311.13); N2=$(sel 415.30 349.23 523.25 392.00); N3=$(sel 523.25 415.30 622.25 466.16)
  K="mod(t,0.5)"
  KICK="0.55*exp(-$K*9)*sin(2*PI*(48*$K+3.3*(1-exp(-$K*30))))"
  HAT="0.05*(random(0)*2-1)*exp(-mod(t+0.25,0.5)*60)"
  BASS="0.20*exp(-mod(t,0.25)*6)*(sin(2*PI*$ROOT*t)+0.3*sin(4*PI*$ROOT*t))"
  s16="mod(floor(t*8),4)"
  ARPF="if(eq($s16,0),$N1,if(eq($s16,1),$N2,if(eq($s16,2),$N3,$N2)))"
  ARP="0.09*exp(-mod(t,0.125)*18)*(sin(2*PI*$ARPF*t)+0.25*sin(4*PI*$ARPF*t))"
  PADG="0.035*(sin(2*PI*$N1/2*t)+sin(2*PI*$N2/2*t)+sin(2*PI*$N3/2*t))"
  MIX="$KICK+$HAT+$BASS+$ARP+$PADG"
  # The live demo (tests go live with it): a keyframe every second, so its live segments are
  # 1 s long and a viewer's first frame waits at most a second for one.
  GOP=$FPS encode glass-rain 1280x720 34 "$gr_v" "$MIX|$MIX" "Glass Rain" "LUMEN DRIVE" 380k 96k
fi

# Open Skies — free CC BY short: a drifting sunset sky with a glowing sun.
if want open-skies; then
  still sun 1280x720 "r='255':g='225':b='170':a='min(255,255*min(1,max(0,1.15-hypot(X-820,Y-470)/70))+110*exp(-hypot(X-820,Y-470)/140))'"
  os_v="
  gradients=s=1280x720:r=$FPS:c0=0x0d1b4c:c1=0x3b4a9a:c2=0xc85a7c:c3=0xff9a4d:c4=0xffd27a:n=5:x0=640:y0=0:x1=640:y1=700:speed=0.00001,format=rgba[sky];
  $(layer sun)[sun];
  [sky][sun]overlay=format=auto:shortest=1,format=gbrp[s2];
  life=s=320x60:r=6:ratio=0.25:seed=12:death_color=black:life_color=white:mold=60:mold_color=0x202020,
    scale=1280x240:flags=bicubic,fps=$FPS,scroll=h=0.0008,pad=1280:720:0:60,gblur=sigma=16,format=gbrp[clouds];
  [s2][clouds]blend=all_mode=screen:all_opacity=0.6,vignette=PI/5[bg]"
  P="130.81 196 261.63 329.63|146.83 220 293.66 349.23|110 164.81 220 261.63|174.61 261.63 349.23 440"
  encode open-skies 1280x720 32 "$os_v" "$(pad 4 "$P" 1.002)|$(pad 4 "$P" 0.998)" \
    "Open Skies" "A MARQUEE ORIGINAL · CC BY 4.0" 450k 64k
fi

# Paper Boats — free CC BY short: paper boats bobbing across a rippling pond.
if want paper-boats; then
  # a folded paper boat sprite (hull trapezoid + two sail triangles)
  HULL="between(Y,60,84)*lt(abs(X-80),72-(Y-60)*1.3)"
  SAIL1="between(Y,10,60)*lt(abs(X-80),(Y-10)*0.55)"
  SAIL2="between(Y,34,60)*lt(abs(X-45),(Y-34)*0.5)+between(Y,34,60)*lt(abs(X-115),(Y-34)*0.5)"
  SH="(1-0.18*lt(X,80)*$SAIL1-0.1*gt(Y,72))"
  still boat 160x90 "r='250*$SH':g='246*$SH':b='236*$SH':a='255*gt($HULL+$SAIL1+$SAIL2,0)'"
  pb_v="
  nullsrc=s=214x120:r=$FPS,geq=lum='128+55*sin(X/7+T*1.3)*sin(Y/5-T*0.9)+35*sin((X+2*Y)/11-T*1.7)':cb=128:cr=128,
    scale=854x480:flags=bicubic,format=gbrp,
    colorchannelmixer=rr=0.25:rg=0:rb=0:ra=0:gr=0:gg=0.55:gb=0:br=0:bg=0:bb=0.65,
    eq=brightness=0.16:saturation=1.3:gamma=1.1[water];
  $(layer boat),split[b1][b2];
  [b2]scale=100:56[b2s];
  [water][b1]overlay=x='-160+mod(t*34,1014)':y='250+8*sin(t*1.7)':shortest=1[w1];
  [w1][b2s]overlay=x='854-mod(t*22+300,954)':y='150+6*sin(t*2.1+1)',vignette=PI/4.5[bg]"
  P="174.61 220 261.63 329.63|196 246.94 293.66 369.99|164.81 207.65 246.94 329.63|146.83 220 261.63 349.23"
  encode paper-boats 854x480 33 "$pb_v" "$(pad 4 "$P" 1.002)|$(pad 4 "$P" 0.998)" \
    "Paper Boats" "A MARQUEE ORIGINAL · CC BY 4.0" 300k 64k
fi

# ------------------------------------------------------ posters/backdrops --
# slug | frame time | crop x-offset (px, from centre) | top label | tagline |
# footer | accent colour
POSTERS="
neon-harbor|14|0|HALCYON PICTURES|The city never sleeps. Neither does the tide.|NEW RELEASE · ONLY ON MARQUEE|#ff4fa3
midnight-circuit|16|-120|REDLINE FILMWORKS|One night. One road. No brakes.|NEW RELEASE · ONLY ON MARQUEE|#ff7a2f
the-quiet-orchard|12|0|FERNWOOD FILMS|Some harvests take a lifetime.|A FERNWOOD FILMS PRODUCTION|#f2c14e
orbital-s01e01|14|0|ORBITAL · SEASON 1|Episode 1 — First Light|A DEEPFIELD TELEVISION SERIES|#4fc3f7
orbital-s01e02|14|-60|ORBITAL · SEASON 1|Episode 2 — Dead Reckoning|A DEEPFIELD TELEVISION SERIES|#ffb74d
glass-rain|11|0|LUMEN DRIVE|The new single, out now.|MUSIC VIDEO · NIGHTGLASS RECORDS|#b388ff
open-skies|12|120|A MARQUEE ORIGINAL|Free to watch. Free to share.|CREATIVE COMMONS · CC BY 4.0|#ffb36b
paper-boats|6|0|A MARQUEE ORIGINAL|Small things, carried far.|CREATIVE COMMONS · CC BY 4.0|#7fdbda
"
SERIFI="$FONTDIR/DejaVuSerif-Italic.ttf"
BG='#0b0b12'

# poster_art in.png out.jpg "TITLE" label tagline footer accent
poster_art() {
  local in=$1 out=$2 title=$3 label=$4 tag=$5 foot=$6 acc=$7
  convert "$in" -resize 480x720^ -gravity center -extent 480x720 \
    -modulate 95,110 \
    \( -size 480x440 gradient:none-"$BG" \) -gravity south -geometry +0+50 -compose over -composite \
    \( -size 480x150 gradient:"#0b0b12d0"-none \) -gravity north -geometry +0+0 -compose over -composite \
    \( -size 480x50 xc:"$BG" \) -gravity south -geometry +0+0 -compose over -composite \
    -font "$CONDB" -pointsize 15 -kerning 4 -fill '#ffffffd8' -gravity north -annotate +0+30 "$label" \
    -fill "$acc" -draw "rectangle 222,56 258,58" \
    \( -background none -fill white -font "$SERIFB" +pointsize -kerning 0 -size 430x190 -gravity center caption:"$title" \
       \( +clone -background black -shadow 70x8+0+4 \) +swap -background none -layers merge +repage \) \
    -gravity south -geometry +0+150 -compose over -composite \
    \( -background none -fill '#e4e2ee' -font "$SERIFI" -kerning 0 -pointsize 18 -size 440x -gravity center caption:"$tag" \) \
    -gravity south -geometry +0+98 -compose over -composite \
    -fill "$acc" -draw "rectangle 200,668 280,669" \
    -font "$CONDB" -pointsize 12 -kerning 3 -fill '#ffffffa0' -gravity south -annotate +0+26 "$foot" \
    -strip -interlace Plane -sampling-factor 4:2:0 -quality 85 "$out"
}

while IFS='|' read -r slug at off label tag foot acc; do
  [[ -z "$slug" || ! -f "$OUT/$slug.webm" ]] && continue
  title=$(ffprobe -v error -show_entries format_tags=title -of csv=p=0 "$OUT/$slug.webm")
  echo ">> $slug.jpg / $slug-backdrop.jpg"
  ffmpeg -nostdin -hide_banner -loglevel error -y -ss "$at" -i "$OUT/$slug.webm" -frames:v 1 \
    -vf "scale=1280:720:flags=lanczos,crop=480:720:400+($off):0" "$TMP/p.png"
  poster_art "$TMP/p.png" "$OUT/$slug.jpg" "$title" "$label" "$tag" "$foot" "$acc"
  # backdrop: wide crop that drops the lower-third, darkened to the left and
  # bottom so the storefront can set text over it
  ffmpeg -nostdin -hide_banner -loglevel error -y -ss "$at" -i "$OUT/$slug.webm" -frames:v 1 \
    -vf "scale=1280:720:flags=lanczos,crop=1280:540:0:70" "$TMP/b.png"
  convert "$TMP/b.png" \
    \( -size 540x760 gradient:"${BG}f0"-none -rotate -90 \) -gravity west -compose over -composite \
    \( -size 1280x200 gradient:none-"$BG" \) -gravity south -compose over -composite \
    -strip -interlace Plane -quality 85 "$OUT/$slug-backdrop.jpg"
done <<<"$POSTERS"

# ------------------------------------------------------------- the game ----
# pixel-drift/ (next to this script) holds the game's source; the zip is made
# deterministic: sorted explicit file list, fixed mtimes/modes, no extra
# attributes (-X), no directory entries (-D).
echo ">> pixel-drift.zip / pixel-drift.jpg"
rm -rf "$TMP/zip" && mkdir -p "$TMP/zip/pixel-drift"
cp "$HERE/pixel-drift/index.html" "$HERE/pixel-drift/README.txt" "$TMP/zip/pixel-drift/"
chmod 644 "$TMP/zip/pixel-drift/"*
TZ=UTC touch -d '2026-01-01 00:00:00' "$TMP/zip/pixel-drift/"* "$TMP/zip/pixel-drift"
rm -f "$OUT/pixel-drift.zip"
(cd "$TMP/zip" && TZ=UTC zip -q -X -D -9 "$OUT/pixel-drift.zip" pixel-drift/README.txt pixel-drift/index.html)

# poster: neon road, pixel cars, big arcade type
PD="$TMP/pd.png"
convert -size 480x720 gradient:'#2a0f4a'-'#07040f' \
  -fill '#2b2b36' -draw "polygon 150,0 330,0 470,720 10,720" \
  -fill '#ff2a6d' -draw "polygon 146,0 152,0 14,720 4,720" -draw "polygon 328,0 334,0 476,720 466,720" \
  -fill '#d8d8e0' \
  -draw "polygon 198,40 202,40 196,90 190,90" -draw "polygon 186,160 192,160 183,240 175,240" \
  -draw "polygon 170,320 178,320 165,430 155,430" -draw "polygon 150,520 160,520 143,660 131,660" \
  -draw "polygon 278,40 282,40 290,90 284,90" -draw "polygon 288,160 294,160 305,240 297,240" \
  -draw "polygon 302,320 310,320 325,430 315,430" -draw "polygon 320,520 330,520 349,660 337,660" \
  -fill '#4fc3f7' -draw "rectangle 212,120 236,160" -fill '#22223a' -draw "rectangle 215,126 233,132" \
  -fill '#ffd54f' -draw "rectangle 300,300 332,350" -fill '#22223a' -draw "rectangle 304,308 328,316" \
  -fill '#9ccc65' -draw "rectangle 128,400 164,456" -fill '#22223a' -draw "rectangle 132,410 160,420" \
  -fill '#f5f5f5' -draw "rectangle 214,470 266,570" -draw "rectangle 208,482 272,558" \
  -fill '#4fc3f7' -draw "rectangle 220,490 260,506" -draw "rectangle 220,542 260,552" \
  -fill '#111111' -draw "rectangle 202,490 208,510" -draw "rectangle 272,490 278,510" \
  -draw "rectangle 202,536 208,556" -draw "rectangle 272,536 278,556" \
  -fill '#fff59d' -draw "rectangle 220,464 230,470" -draw "rectangle 250,464 260,470" \
  "$PD"
convert "$PD" \
  \( -size 480x300 gradient:'#07040fe8'-none \) -gravity north -compose over -composite \
  \( -size 480x160 gradient:none-'#07040f' \) -gravity south -compose over -composite \
  -font "$CONDB" -pointsize 15 -kerning 4 -fill '#ffffffd8' -gravity north -annotate +0+30 "TINYBYTE GAMES" \
  -fill '#ff2a6d' -draw "rectangle 222,56 258,58" \
  \( -background none -font "$FONTDIR/DejaVuSansMono-Bold.ttf" -pointsize 92 -kerning 2 \
     -fill '#ff2a6d' label:"PIXEL" \( +clone -background '#ff2a6d' -shadow 80x10+0+0 \) +swap -background none -layers merge +repage \) \
  -gravity north -geometry +0+78 -compose over -composite \
  \( -background none -font "$FONTDIR/DejaVuSansMono-Bold.ttf" -pointsize 92 -kerning 2 \
     -fill '#4fc3f7' label:"DRIFT" \( +clone -background '#4fc3f7' -shadow 80x10+0+0 \) +swap -background none -layers merge +repage \) \
  -gravity north -geometry +0+170 -compose over -composite \
  -font "$SERIFI" -pointsize 19 -kerning 0 -fill '#e4e2ee' -gravity south -annotate +0+64 "Dodge the traffic. Beat your best." \
  -fill '#ff2a6d' -draw "rectangle 200,668 280,669" \
  -font "$CONDB" -pointsize 12 -kerning 3 -fill '#ffffffa0' -gravity south -annotate +0+26 "PC GAME · PLAYS IN ANY BROWSER" \
  -strip -interlace Plane -quality 85 "$OUT/pixel-drift.jpg"

# ------------------------------------------------------------ variants ----
# Two works are also sold in SD (854x480), each encoded from its HD video: the storefront
# shows one card per work and the person picks the quality before paying.
sd_variant() {
  local slug=$1
  echo ">> $slug-sd.webm (854x480, from $slug.webm)"
  ffmpeg -nostdin -hide_banner -loglevel ${LOGLEVEL:-error} -y -i "$OUT/$slug.webm" \
    -vf scale=854:480:flags=lanczos -r $FPS \
    -c:v libvpx-vp9 -b:v 200k -g "${GOP:-48}" -keyint_min "${GOP:-48}" \
    -deadline good -cpu-used 5 -row-mt 1 -tile-columns 1 -threads 2 \
    -c:a copy -metadata:s:v:0 handler_name= "$OUT/$slug-sd.webm"
}
for slug in neon-harbor orbital-s01e01; do
  if want "$slug" || want "$slug-sd"; then sd_variant "$slug"; fi
done

# ------------------------------------------------------------- checks -----
# Every video must be VP9 + Opus, >= 30 s, and the stated resolution.
echo ">> checking"
fail=0
for spec in neon-harbor:1280x720 midnight-circuit:1280x720 the-quiet-orchard:854x480 \
            orbital-s01e01:1280x720 orbital-s01e02:1280x720 glass-rain:1280x720 \
            open-skies:1280x720 paper-boats:854x480 \
            neon-harbor-sd:854x480 orbital-s01e01-sd:854x480; do
  slug=${spec%%:*} res=${spec#*:} f="$OUT/${spec%%:*}.webm"
  if [[ ! -f "$f" ]]; then echo "FAIL $slug: missing"; fail=1; continue; fi
  v=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 "$f")
  a=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name -of csv=p=0 "$f")
  d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")
  ok=1
  [[ "$v" == "vp9,${res%x*},${res#*x}" ]] || ok=0
  [[ "$a" == "opus" ]] || ok=0
  awk "BEGIN{exit !($d >= 30)}" || ok=0
  # An SD variant shares its work's poster and backdrop.
  for img in "$OUT/${slug%-sd}.jpg" "$OUT/${slug%-sd}-backdrop.jpg"; do [[ -s "$img" ]] || ok=0; done
  if ((ok)); then status=ok; else status=FAIL; fail=1; fi
  printf '%-4s %-18s %-14s %-5s %8.3fs %6s\n' "$status" "$slug" "$v" "$a" "$d" "$(du -h "$f" | cut -f1)"
done
unzip -tq "$OUT/pixel-drift.zip" >/dev/null || { echo "FAIL pixel-drift.zip"; fail=1; }
[[ -s "$OUT/pixel-drift.jpg" ]] || { echo "FAIL pixel-drift.jpg"; fail=1; }
echo "media/ total: $(du -sh "$OUT" | cut -f1)"
exit $fail
