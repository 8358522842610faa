# Meta module: activating it activates every Tryton module Monitorbizz uses.
