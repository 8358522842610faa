/* Monitorbizz branding for the Tryton web client (sao loads this file
   right after its own script, so these settings win). */
(function() {
    'use strict';
    Sao.config.title = 'Monitorbizz';
    Sao.config.icon_colors = ['#1f3a5f', '#3e4950', '#f28c28'];
    Sao.config.calendar_colors = ['#fff', '#1f3a5f'];
    Sao.config.graph_color = '#1f3a5f';
    document.title = Sao.config.title;
    jQuery(function() {
        jQuery('#title').text(Sao.config.title);
    });
}());
