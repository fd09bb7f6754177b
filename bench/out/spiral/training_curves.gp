outfile = 'bench/out/spiral/training_curves.png.tmp'
set terminal pngcairo noenhanced size 1400,500
set output outfile
set datafile separator ','
set multiplot layout 1,2
set xlabel 'epoch'
set title 'Ensemble training: mean member cross-entropy'
set ylabel 'loss (nats)'
plot 'bench/out/spiral/ensemble_curve.csv' skip 1 using 1:2 with lines lw 2 title 'ensemble'
set title 'Distillation: loss and temperature T'
set ylabel 'loss'
set y2label 'T'
set y2tics
set ytics nomirror
g = 'bench/out/spiral/distill_curves.csv'
plot g skip 1 using 1:3 with lines lw 2 title 'end', g skip 1 using 1:4 with lines lw 2 title 'end2', g skip 1 using 1:5 with lines lw 2 title 'end2_aux', g skip 1 using 1:2 axes x1y2 with lines dt 2 lc rgb 'black' title 'T'
unset multiplot
