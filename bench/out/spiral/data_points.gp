outfile = 'bench/out/spiral/data_points.png.tmp'
set terminal pngcairo noenhanced size 800,800
set output outfile
set datafile separator ','
set title 'Spiral training data (classes), AUX inputs and far OOD inputs'
set size ratio -1
set key outside bottom center horizontal
f = 'bench/out/spiral/data_points.csv'
plot f skip 1 using 1:($3==3?$2:1/0) with points pt 7 ps 0.3 lc rgb '#bbbbbb' title 'AUX', \
 f skip 1 using 1:($3==4?$2:1/0) with points pt 7 ps 0.3 lc rgb 'black' title 'far OOD', \
 for [k=0:2] f skip 1 using 1:($3==k?$2:1/0) with points pt 7 ps 0.3 title sprintf('class %d', k)
