outfile = 'bench/out/spiral_quick/uncertainty_maps.png.tmp'
set terminal pngcairo noenhanced size 1500,1500 font ',10'
set output outfile
set datafile separator ','
set multiplot layout 3,3 title 'Uncertainty over the input plane (spiral radius R = 355)'
set size ratio -1
unset key
set palette rgbformulae 33,13,10
f = 'bench/out/spiral_quick/uncertainty_maps.csv'
set title 'ensemble: total'
set cbrange [0:1.09833]
plot f skip 1 using 1:2:3 with image
set title 'ensemble: data'
set cbrange [0:1.09335]
plot f skip 1 using 1:2:4 with image
set title 'ensemble: knowledge'
set cbrange [0:0.920099]
plot f skip 1 using 1:2:5 with image
set title 'end2: total'
set cbrange [0:1.09833]
plot f skip 1 using 1:2:6 with image
set title 'end2: data'
set cbrange [0:1.09335]
plot f skip 1 using 1:2:7 with image
set title 'end2: knowledge'
set cbrange [0:0.920099]
plot f skip 1 using 1:2:8 with image
set title 'end2_aux: total'
set cbrange [0:1.09833]
plot f skip 1 using 1:2:9 with image
set title 'end2_aux: data'
set cbrange [0:1.09335]
plot f skip 1 using 1:2:10 with image
set title 'end2_aux: knowledge'
set cbrange [0:0.920099]
plot f skip 1 using 1:2:11 with image
unset multiplot
