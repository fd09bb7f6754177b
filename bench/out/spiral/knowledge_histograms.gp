outfile = 'bench/out/spiral/knowledge_histograms.png.tmp'
set terminal pngcairo noenhanced size 1500,450
set output outfile
set datafile separator ','
set multiplot layout 1,3 title 'Knowledge uncertainty: test (in-domain) vs far OOD'
set style fill transparent solid 0.5
set xlabel 'knowledge uncertainty (nats)'
set ylabel 'density (log scale)'
set logscale y
f = 'bench/out/spiral/knowledge_histograms.csv'
set title 'ensemble'
plot f skip 1 using 1:2 with boxes title 'test', f skip 1 using 1:3 with boxes title 'far OOD'
set title 'end2'
plot f skip 1 using 1:4 with boxes title 'test', f skip 1 using 1:5 with boxes title 'far OOD'
set title 'end2_aux'
plot f skip 1 using 1:6 with boxes title 'test', f skip 1 using 1:7 with boxes title 'far OOD'
unset multiplot
